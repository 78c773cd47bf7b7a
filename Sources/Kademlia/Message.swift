import Primitives

/// One datagram of the DHT protocol: a header naming the network, the sender and the
/// transaction, and one request or response body.
///
/// Requests: `ping`, `findNode`, `findValue`, `store`, `subscribe`; each is answered by
/// the response with the same transaction id (`pong`, `nodes`, `values`, `stored`,
/// `subscribed`); `refresh` and `probe` (answered by `refreshed`, `held`) name values by
/// version instead of carrying them (`DHTNode+Refresh`, `DHTNode+Subscriptions`).
/// `notify` is one-way: a holder pushes a subscribed key's new, changed or deleted value
/// the moment it stores it.
public struct Message: Hashable, Sendable {
    public var header: MessageHeader
    public var body: MessageBody

    public init(header: MessageHeader, body: MessageBody) {
        self.header = header
        self.body = body
    }
}

/// The fixed part of every message. Version 3 layout (big-endian; version 2 added the value
/// id to records, version 3 their issue time, see `WireCodec`; frames of older versions are
/// refused as `unsupportedVersion`: their records carry no issue time, and taking them would
/// keep every copy ever captured replayable):
/// `version u8 | kind u8 | flags u8 | network u64 | [overlay u64 if flags bit 0] |
/// sender 32 bytes | transaction u32`; flags bit 1 says the sender is structured (runs the
/// DHT rather than direct exchange), bit 2 that it is merging (its overlay just met another
/// one, or healed). Unknown flag bits are rejected, so a future extension sets a new bit (or
/// a new version) instead of being silently misread: the three bits are additions to
/// version 2, not a new version.
public struct MessageHeader: Hashable, Sendable {
    public static let currentVersion: UInt8 = 3

    public var network: NetworkID
    /// Which overlay the sender belongs to; nil until it has met anyone (`DHTNode+Merging`).
    public var overlay: UInt64?
    /// The sender's overlay has formed the DHT (structure stage); a node still in direct
    /// exchange that hears this joins the structure (`DHTNode`'s stages).
    public var structured: Bool
    /// The sender is merging: receivers of its overlay join in once (`DHTNode+Merging`).
    public var merging: Bool
    public var sender: NodeID
    public var transaction: UInt32

    public init(network: NetworkID, overlay: UInt64? = nil, structured: Bool = false, merging: Bool = false, sender: NodeID,
                transaction: UInt32) {
        self.network = network
        self.overlay = overlay
        self.structured = structured
        self.merging = merging
        self.sender = sender
        self.transaction = transaction
    }
}

/// What a message says.
public enum MessageBody: Hashable, Sendable {
    case ping
    case pong
    /// Asks for the contacts closest to `target` that the receiver knows.
    case findNode(target: NodeID)
    case nodes([Contact])
    /// Asks for the values under `key` (starting at the `offset`-th, for keys with more
    /// values than one datagram holds) and the contacts closest to it.
    case findValue(key: RecordKey, offset: UInt16)
    /// Values under the asked key; `more` says further values follow at a higher offset.
    case values(records: [RecordCopy], more: Bool, closer: [Contact])
    /// Asks the receiver to hold one record.
    case store(RecordCopy)
    /// The store's answer: `nil` when accepted (or already held), else why not.
    case stored(RecordRejection?)
    /// Asks the receiver to push changes under `key` for `lease` seconds (0 ends it).
    case subscribe(key: RecordKey, lease: UInt32)
    /// The lease granted in seconds (0: refused).
    case subscribed(lease: UInt32)
    /// A subscribed key's value was added, replaced or deleted (tombstone). A refresh that
    /// changes nothing but the lifetime is not pushed.
    case notify(RecordCopy)
    /// The owner's republish of values the receiver should already hold: extend the
    /// lifetime of the sender's own values under `key` (slot: the sender's id and the value
    /// id) if held at exactly this sequence. Costs a few dozen bytes instead of the signed
    /// record (OpenDHT's "refresh" of a value id); the record follows only where it is missing.
    case refresh(key: RecordKey, versions: [ValueVersion])
    /// The refresh's answer: the value ids the receiver does not hold at the named
    /// sequence (missing, expired, or older); the owner stores those in full.
    case refreshed(unknown: [UInt64])
    /// A subscriber whose copies of these values under `key` ran out asks a holder whether
    /// it still holds them at exactly these versions (holders push changes, not refreshes).
    case probe(key: RecordKey, slots: [SlotVersion])
    /// The probe's answer, one entry per slot asked, in order: the lifetime left in
    /// seconds, 0 when not held at that version (the subscriber then fetches the values).
    case held(remaining: [UInt32])

    public var kind: MessageKind {
        switch self {
        case .ping: .ping
        case .pong: .pong
        case .findNode: .findNode
        case .nodes: .nodes
        case .findValue: .findValue
        case .values: .values
        case .store: .store
        case .stored: .stored
        case .subscribe: .subscribe
        case .subscribed: .subscribed
        case .notify: .notify
        case .refresh: .refresh
        case .refreshed: .refreshed
        case .probe: .probe
        case .held: .held
        }
    }

    /// Responses answer a request with the same transaction id.
    public var isResponse: Bool {
        switch self {
        case .pong, .nodes, .values, .stored, .subscribed, .refreshed, .held: true
        default: false
        }
    }
}

/// The wire code of each body.
public enum MessageKind: UInt8, Sendable, CaseIterable {
    case ping = 1, pong, findNode, nodes, findValue, values, store, stored, subscribe, subscribed, notify, refresh, refreshed, probe, held

    public var name: String { "\(self)" }
}

/// One of the sender's own values under a key, named without its content: which value
/// (`valueID`) at which `sequence` (a `refresh` names these).
public struct ValueVersion: Hashable, Sendable {
    public var valueID: UInt64
    public var sequence: UInt64

    public init(valueID: UInt64, sequence: UInt64) {
        self.valueID = valueID
        self.sequence = sequence
    }
}

/// One value under a key named by its slot and version, without its content (a `probe`
/// names these).
public struct SlotVersion: Hashable, Sendable {
    public var slot: RecordSlot
    public var sequence: UInt64

    public init(slot: RecordSlot, sequence: UInt64) {
        self.slot = slot
        self.sequence = sequence
    }
}
