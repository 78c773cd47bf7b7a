import Kademlia
import Primitives

/// A value as a rendezvous hands it out: verified against its owner's signature.
///
/// Under one key, each owner (a leader's node id) holds values distinguished by a value id
/// chosen by the owner (the gateway uses one per exported instance).
public struct RendezvousValue: Hashable, Sendable {
    public var key: RecordKey
    public var owner: NodeID
    public var valueID: UInt64
    public var sequence: UInt64
    public var payload: [UInt8]

    public init(key: RecordKey, owner: NodeID, valueID: UInt64, sequence: UInt64, payload: [UInt8]) {
        self.key = key
        self.owner = owner
        self.valueID = valueID
        self.sequence = sequence
        self.payload = payload
    }

    /// A verified record as a rendezvous hands it out.
    public init(_ record: Record) {
        self.init(key: record.key, owner: record.owner, valueID: record.valueID, sequence: record.sequence,
                  payload: record.payload)
    }

    /// What identifies the value under its key.
    public var slot: ValueSlot { ValueSlot(owner: owner, valueID: valueID) }
}

/// An owner's value slot under a key: the `RecordSlot` (owner, value id) the DHT uses too.
public typealias ValueSlot = RecordSlot

/// Another node of the rendezvous, as far as this one knows it.
public struct RendezvousPeer: Hashable, Sendable {
    public var id: NodeID
    public var endpoint: Endpoint
    /// Round-trip time of its last answer, when measured.
    public var rtt: Interval?

    public init(id: NodeID, endpoint: Endpoint, rtt: Interval? = nil) {
        self.id = id
        self.endpoint = endpoint
        self.rtt = rtt
    }
}

/// A change under a subscribed key.
public enum RendezvousChange: Hashable, Sendable {
    /// A value appeared or was replaced by a newer one.
    case upserted(RendezvousValue)
    /// The owner deleted it (a tombstone) or it expired without a republish.
    case removed(RecordKey, ValueSlot)

    /// A DHT node's notification as a subscriber sees it (expiry and deletion alike are removals).
    public init(_ notification: SubscriptionNotification) {
        self = switch notification.change {
        case .new(let record), .changed(let record): .upserted(RendezvousValue(record))
        case .deleted(let tombstone): .removed(notification.key, tombstone.slot)
        case .expired(let slot): .removed(notification.key, slot)
        }
    }

    /// The key the change is under.
    public var key: RecordKey {
        switch self {
        case .upserted(let value): value.key
        case .removed(let key, _): key
        }
    }
}

/// Why a rendezvous operation failed.
public enum RendezvousError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No peer took the value (no other leader reachable yet, or all refused).
    case notStored(String)
    case tooLarge(Int)
    case shutDown

    public var description: String {
        switch self {
        case .notStored(let why): "not stored: \(why)"
        case .tooLarge(let bytes): "value of \(bytes) bytes is too large"
        case .shutDown: "the rendezvous is shut down"
        }
    }
}

/// Counters and state of a rendezvous, for status, metrics and benchmarks.
public struct RendezvousStats: Hashable, Sendable {
    public var engine: String
    /// The overlay's own stage: `bootstrapping` while it knows no other node (or does not take part).
    public var stage: Stage = .bootstrapping
    /// The overlay this node is in, when it is in one.
    public var overlayID: UInt64?
    /// Other islands' leaders this node knows, with where they listen.
    public var leaders: [RendezvousPeer] = []
    /// Other nodes this one can reach (routing table size, or mesh size in direct exchange).
    public var peers: Int
    public var storedValues: Int
    public var subscriptions: Int
    public var bytesSent: UInt64
    public var bytesReceived: UInt64
    /// What the engine refused, by reason (the metric label): datagrams (admission:
    /// `missing_tag`, `bad_tag`; rate limits: `rate_limited_source`, `rate_limited_total`;
    /// the decoder's reasons), records (`RecordRejection` reasons such as `store_full`,
    /// `too_many_values_from_owner`) and contacts (`subnet_per_bucket`). Empty when the
    /// engine counts none.
    public var refusals: [String: Int] = [:]

    public init(engine: String, peers: Int = 0, storedValues: Int = 0, subscriptions: Int = 0,
                bytesSent: UInt64 = 0, bytesReceived: UInt64 = 0) {
        self.engine = engine
        self.peers = peers
        self.storedValues = storedValues
        self.subscriptions = subscriptions
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
    }
}

/// The place island leaders meet: put signed values under keys, read them, and be told
/// when they change. The gateway, the islands and SIP use only this; engines are the
/// native Kademlia DHT and OpenDHT.
///
/// The engine signs with the node's identity, keeps sequence numbers increasing across
/// restarts, republishes its own values until they are removed, and delivers removals as
/// tombstones rather than waiting for expiry.
public protocol Rendezvous: AnyObject, Sendable {
    /// Starts taking part: this node became its island's leader.
    func join() async
    /// Stops taking part (no longer the leader). What it put has been removed before.
    func leave() async
    /// Stores (or replaces) this node's value `valueID` under `key`.
    func put(key: RecordKey, valueID: UInt64, payload: [UInt8]) async throws(RendezvousError)
    /// Deletes this node's value `valueID` under `key` everywhere (tombstone).
    func remove(key: RecordKey, valueID: UInt64) async throws(RendezvousError)
    /// The current values under `key`, newest per slot.
    func get(key: RecordKey) async throws(RendezvousError) -> [RendezvousValue]
    /// Changes under `key` from now on, starting with its current values as `.upserted`.
    /// Ends when `unsubscribe(key:)` is called or the rendezvous shuts down.
    func subscribe(key: RecordKey) async -> AsyncStream<RendezvousChange>
    func unsubscribe(key: RecordKey) async
    func stats() async -> RendezvousStats
}
