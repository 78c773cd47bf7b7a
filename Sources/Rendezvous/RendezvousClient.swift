import Kademlia
import Primitives

/// The leader's side of a rendezvous, the same for every engine, as a pure state machine:
/// sequence numbers, the values we publish, the subscriptions we want, the seeds, and the
/// decisions of staying connected. Calls go in (`join`, `put`, `subscribe`, `round`, and
/// the engine's answers `bootstrapped` and `placed`); `Action`s come out; time arrives as
/// `now`. No clock, task, lock or socket in here: `ClientShell` carries the actions out for
/// the real engines (`KademliaRendezvous`, `OpenDHTRendezvous`), and a simulator can carry
/// them out over a `DHTNode` on virtual time.
///
/// Rules:
/// - Sequence numbers: one counter per node, started above both the last one persisted and
///   the wall clock in milliseconds, so a restarted leader's values replace the copies its
///   earlier run left in the DHT. Every write (value, tombstone, republish) takes the next.
/// - The published table holds our live values, to put again after (re)joining; a removal
///   takes the value out, so no reconnect brings it back.
/// - Rounds: while joined, every `retryInterval` (at once after `join` or new seeds), the
///   caller reports how many peers the engine reaches. Alone with seeds: bootstrap through
///   all of them. Connected with seeds given since the last round: join through those (they
///   may lead into an overlay that formed apart; the DHT merges overlays itself). On
///   becoming connected: place subscriptions again and put every published value again, so
///   nothing made while alone stays local. A round that waits for its bootstrap starts no
///   other. Leaving stops the rounds.
/// - Subscriptions: each one has a generation (a re-subscription is a new one, and answers
///   for an old one are ignored) and a placement. `Replacement` says which are placed again
///   on connecting: the native engine places those that reached no holder (its DHT node
///   renews placed leases itself); OpenDHT listens again on all (after a time with no node
///   its listens may have given up their searches). One still being placed is never placed
///   twice: the DHT node would replace the first placement, whose caller would wait forever.
///
/// Driving it over a simulated `DHTNode` (the gateway between them), with `peers` read as
/// `node.table.count` like `KademliaRendezvous` reads it:
/// - `GatewayMachine` effects: `.joinRendezvous` → `join(now:)`, `.leaveRendezvous` →
///   `leave()`, `.seedRendezvous(e)` → `addSeeds(e, now:)`, `.put` / `.remove` /
///   `.subscribe` / `.unsubscribe` → the calls of the same names.
/// - Once `now >= nextRound`: `round(now:, peers:)`.
/// - Actions: `.store(w)` → `.command(.put(id, w.record(signedBy:ttl:)))` when `isCurrent(w)`;
///   `.bootstrap(s)` and `.joinThrough(s)` → `.command(.bootstrap(id, s))`, its
///   `.completed(id, .bootstrapped(n, _))` → `bootstrapped(reached: n, now:)`;
///   `.place(k, g)` → `.command(.subscribe(id, k))`, its `.completed(id, .subscribed(h))` →
///   `placed(k, generation: g, h > 0 && node.table.count > 0)`; `.cancel(k)` →
///   `.command(.unsubscribe(k))`; `.connected` is for the log.
/// - The node's `.notification`s become `RendezvousChange(_:)` for `GatewayMachine`'s
///   `.rendezvous` event.
public struct RendezvousClient: Sendable {
    /// What differs between engines, and the pace of rounds.
    public struct Configuration: Sendable {
        /// Between two rounds while joined.
        public var retryInterval: Interval
        /// Which subscriptions are placed again on connecting.
        public var replacement: Replacement

        public init(retryInterval: Interval = .seconds(5), replacement: Replacement = .unplaced) {
            self.retryInterval = retryInterval
            self.replacement = replacement
        }
    }

    /// Which subscriptions to place again when the node connects.
    public enum Replacement: Hashable, Sendable {
        /// Those whose last placement reached no holder (native: the DHT renews the others).
        case unplaced
        /// Every one not being placed right now (OpenDHT: listens may have given up).
        case all
    }

    /// Where a subscription stands with the engine.
    public enum Placement: Hashable, Sendable {
        /// Handed to the engine; no answer yet.
        case placing
        /// Held by someone other than this node.
        case placed
        /// Reached no holder (made while alone, or it failed): placed again on connecting.
        case unplaced
    }

    /// A subscription this node wants.
    public struct Subscription: Hashable, Sendable {
        public var generation: Int
        public var placement: Placement

        public init(generation: Int, placement: Placement) {
            self.generation = generation
            self.placement = placement
        }
    }

    /// A value we published and still hold live.
    public struct Published: Hashable, Sendable {
        public var payload: [UInt8]
        /// The sequence of its newest write.
        public var sequence: UInt64
    }

    /// One write into the DHT: a value or a tombstone of one of our slots, with its sequence.
    public struct Write: Hashable, Sendable {
        public var key: RecordKey
        public var valueID: UInt64
        public var sequence: UInt64
        /// Empty for a tombstone.
        public var payload: [UInt8]
        public var isTombstone: Bool

        public init(key: RecordKey, valueID: UInt64, sequence: UInt64, payload: [UInt8], isTombstone: Bool) {
            self.key = key
            self.valueID = valueID
            self.sequence = sequence
            self.payload = payload
            self.isTombstone = isTombstone
        }

        /// The write as a record signed by this node; `ttl` is the engine's value lifetime.
        public func record(signedBy identity: Identity, ttl: UInt32) -> Record {
            identity.record(key: key, valueID: valueID, sequence: sequence, ttl: ttl, payload: payload, tombstone: isTombstone)
        }
    }

    /// What the client asks its engine to do.
    public enum Action: Hashable, Sendable {
        /// Write a value or tombstone (first ask `isCurrent`: a later write may have superseded it).
        case store(Write)
        /// Join through these seeds while alone; answer with `bootstrapped(reached:now:)`.
        case bootstrap([Endpoint])
        /// Join through seeds given while connected (perhaps another overlay); answer with
        /// `bootstrapped(reached:now:)`.
        case joinThrough([Endpoint])
        /// Place (or place again) a subscription; answer with `placed(_:generation:_:)`.
        case place(RecordKey, generation: Int)
        /// Drop the engine's subscription to a key.
        case cancel(RecordKey)
        /// The node has just connected (peers reachable after being alone); for the log.
        case connected(peers: Int)
    }

    public let configuration: Configuration
    /// The last sequence number used (or the floor, before any write).
    public private(set) var sequence: UInt64
    /// Our live values by key and value id.
    public private(set) var published: [RecordKey: [UInt64: Published]] = [:]
    public private(set) var subscriptions: [RecordKey: Subscription] = [:]
    /// Every seed known, configured or added.
    public private(set) var seeds: [Endpoint]
    /// Seeds added and not yet joined through (kept while not joined).
    public private(set) var newSeeds: [Endpoint] = []
    /// Taking part (this node leads its island).
    public private(set) var joined = false
    /// Connected at the end of the last round (false while not joined).
    public private(set) var connected = false
    /// When the next round is due; nil while not joined.
    private var roundDue: Instant?
    /// The peers reached before the bootstrap the current round waits for; nil: none waited for.
    private var bootstrapping: Int?
    private var lastGeneration = 0

    /// - Parameters:
    ///   - persistedSequence: the last sequence number a previous run saved (0: none).
    ///   - wallClockMilliseconds: now, in milliseconds since 1970.
    public init(seeds: [Endpoint], persistedSequence: UInt64 = 0, wallClockMilliseconds: UInt64,
                configuration: Configuration = Configuration()) {
        self.seeds = seeds
        self.configuration = configuration
        sequence = max(persistedSequence, wallClockMilliseconds)
    }

    // MARK: what the gateway asks

    /// Starts taking part; a round is due at once.
    public mutating func join(now: Instant) {
        joined = true
        roundDue = now
    }

    /// Stops taking part: no more rounds (the gateway removed its values before).
    public mutating func leave() {
        joined = false
        connected = false
        roundDue = nil
    }

    /// More addresses to join through; a round is due at once when any is new.
    public mutating func addSeeds(_ endpoints: [Endpoint], now: Instant) {
        var added = false
        for endpoint in endpoints where !seeds.contains(endpoint) {
            seeds.append(endpoint)
            newSeeds.append(endpoint)
            added = true
        }
        if added, joined { roundDue = now }
    }

    /// Stores (or replaces) our value `valueID` under `key`.
    public mutating func put(key: RecordKey, valueID: UInt64, payload: [UInt8]) -> [Action] {
        [.store(write(key: key, valueID: valueID, payload: payload))]
    }

    /// Deletes our value `valueID` under `key`: a tombstone, and out of the published table.
    public mutating func remove(key: RecordKey, valueID: UInt64) -> [Action] {
        published[key]?[valueID] = nil
        if published[key]?.isEmpty == true { published[key] = nil }
        return [.store(write(key: key, valueID: valueID, payload: nil))]
    }

    /// Wants changes under `key`; replaces an earlier subscription to it.
    public mutating func subscribe(_ key: RecordKey) -> [Action] {
        lastGeneration += 1
        subscriptions[key] = Subscription(generation: lastGeneration, placement: .placing)
        return [.place(key, generation: lastGeneration)]
    }

    public mutating func unsubscribe(_ key: RecordKey) -> [Action] {
        subscriptions.removeValue(forKey: key) == nil ? [] : [.cancel(key)]
    }

    // MARK: rounds and the engine's answers

    /// When `round(now:peers:)` is next due; nil while not joined or while a round waits
    /// for its bootstrap. Calling it early is harmless.
    public var nextRound: Instant? { bootstrapping == nil ? roundDue : nil }

    /// Checks the connection, `peers` being how many peers the engine reaches now.
    public mutating func round(now: Instant, peers: Int) -> [Action] {
        guard bootstrapping == nil else { return [] }
        guard joined else {
            connected = false
            return []
        }
        roundDue = now + configuration.retryInterval
        let fresh = newSeeds
        newSeeds = []
        if peers == 0, !seeds.isEmpty {
            bootstrapping = peers
            return [.bootstrap(seeds)]
        }
        if peers > 0, !fresh.isEmpty {
            bootstrapping = peers
            return [.joinThrough(fresh)]
        }
        return settle(peers: peers)
    }

    /// The round's bootstrap (or join through new seeds) ended with `reached` peers.
    public mutating func bootstrapped(reached: Int, now: Instant) -> [Action] {
        guard let before = bootstrapping else { return [] }
        bootstrapping = nil
        guard joined else { return [] }
        return settle(peers: max(before, reached))
    }

    /// The engine's answer for placing subscription `generation` of `key`: whether someone
    /// other than this node holds it.
    public mutating func placed(_ key: RecordKey, generation: Int, _ held: Bool) {
        guard subscriptions[key]?.generation == generation else { return }
        subscriptions[key]?.placement = held ? .placed : .unplaced
    }

    // MARK: questions

    /// Whether a write still says the newest about its slot: a value write superseded by a
    /// later put or a removal must not go out (an engine could let it replace the newer one).
    public func isCurrent(_ write: Write) -> Bool {
        write.isTombstone || published[write.key]?[write.valueID]?.sequence == write.sequence
    }

    /// Whether subscription `generation` of `key` is still wanted.
    public func isCurrent(_ key: RecordKey, generation: Int) -> Bool {
        subscriptions[key]?.generation == generation
    }

    /// How many live values we publish.
    public var publishedCount: Int { published.values.reduce(0) { $0 + $1.count } }

    // MARK: internals

    private mutating func write(key: RecordKey, valueID: UInt64, payload: [UInt8]?) -> Write {
        sequence += 1
        if let payload { published[key, default: [:]][valueID] = Published(payload: payload, sequence: sequence) }
        return Write(key: key, valueID: valueID, sequence: sequence, payload: payload ?? [], isTombstone: payload == nil)
    }

    /// Ends a round with `peers` reached: on becoming connected, place subscriptions again
    /// and put everything again.
    private mutating func settle(peers: Int) -> [Action] {
        let wasConnected = connected
        connected = peers > 0
        guard connected, !wasConnected else { return [] }
        return [.connected(peers: peers)] + placeAgain() + republishAll()
    }

    private mutating func placeAgain() -> [Action] {
        var actions: [Action] = []
        for key in subscriptions.keys.sorted() {
            let subscription = subscriptions[key]!
            switch (configuration.replacement, subscription.placement) {
            case (_, .placing), (.unplaced, .placed): continue
            case (.unplaced, .unplaced), (.all, _):
                subscriptions[key]?.placement = .placing
                actions.append(.place(key, generation: subscription.generation))
            }
        }
        return actions
    }

    /// Every live value again, each under a new sequence number, in key and value id order.
    private mutating func republishAll() -> [Action] {
        var actions: [Action] = []
        for (key, slots) in published.sorted(by: { $0.key < $1.key }) {
            for (valueID, value) in slots.sorted(by: { $0.key < $1.key }) {
                actions += put(key: key, valueID: valueID, payload: value.payload)
            }
        }
        return actions
    }
}
