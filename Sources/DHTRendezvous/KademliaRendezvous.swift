import Kademlia
import Logging
import Primitives
import Rendezvous
import Synchronization
import Transport

/// The native rendezvous engine: z2z's own Kademlia DHT (`DHTPeer`) behind the
/// `Rendezvous` interface.
///
/// - Values are signed records under the node's identity, one slot per (key, value id), with a
///   lifetime of `ttl`; the DHT node republishes its own records at `republishFraction` (0.8) of their lifetime.
/// - Sequence numbers come from one counter per node, started above both the last one used
///   (persisted through `sequenceStore`) and the wall clock in milliseconds, so a restarted
///   leader's values replace the copies its earlier run left in the DHT.
/// - Joining bootstraps through the configured seeds and the cached routing table, and keeps
///   retrying while no peer answers; every subscription made and value put while alone is
///   placed again once peers are there. Leaving stops the retries (the gateway has removed its values before).
/// - Subscriptions are the DHT's: one lease per key, notifications demultiplexed by key.
public final class KademliaRendezvous: Rendezvous {
    /// Where the sequence counter survives restarts.
    public struct SequenceStore: Sendable {
        public var load: @Sendable () -> UInt64
        public var save: @Sendable (UInt64) -> Void
        public init(load: @escaping @Sendable () -> UInt64, save: @escaping @Sendable (UInt64) -> Void) {
            self.load = load
            self.save = save
        }
        public static let none = SequenceStore(load: { 0 }, save: { _ in })
    }

    struct State {
        var joined = false
        var sequence: UInt64
        /// Our live values, to put again after (re)joining.
        var published: [RecordKey: [UInt64: [UInt8]]] = [:]
        var subscribers: [RecordKey: AsyncStream<RendezvousChange>.Continuation] = [:]
        /// Subscriptions that reached no holder (made while alone), to place once peers are there.
        var unplaced: Set<RecordKey> = []
        /// Seeds given while running, not yet joined through.
        var newSeeds: [Endpoint] = []
        var seeds: [Endpoint]
        var bytesSent: UInt64 = 0
    }

    public let peer: DHTPeer
    private let ttl: UInt32
    private let sequenceStore: SequenceStore
    private let logger: Logger
    private let retryInterval: Duration
    private let state: Mutex<State>
    /// The wait between rounds of `stayConnected`; `wake()` cuts it short.
    private let pause = Pause()

    /// - Parameters:
    ///   - seeds: nodes to join through (configured bootstrap addresses, cached contacts).
    ///   - ttl: lifetime of our values in seconds; a gateway that dies silently is forgotten
    ///     by other islands this long after its last republish.
    ///   - wallClockMilliseconds: now, in milliseconds since 1970 (the sequence floor).
    public init(peer: DHTPeer, seeds: [Endpoint], ttl: UInt32 = 300, sequenceStore: SequenceStore = .none,
                wallClockMilliseconds: UInt64, retryInterval: Duration = .seconds(5),
                logger: Logger = Logger(label: "z2z.rendezvous")) {
        self.peer = peer
        self.ttl = ttl
        self.sequenceStore = sequenceStore
        self.logger = logger
        self.retryInterval = retryInterval
        state = Mutex(State(sequence: max(sequenceStore.load(), wallClockMilliseconds), seeds: seeds))
    }

    /// Serves the engine: hands DHT notifications to subscribers and keeps a joined node
    /// connected. Runs until cancelled (the peer's own `run()` runs beside it).
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.deliverNotifications() }
            group.addTask { await self.stayConnected() }
            await group.waitForAll()
        }
    }

    /// New addresses to join through (e.g. a leader learnt on a second interface).
    public func addSeeds(_ endpoints: [Endpoint]) {
        state.withLock { state in
            for endpoint in endpoints where !state.seeds.contains(endpoint) {
                state.seeds.append(endpoint)
                state.newSeeds.append(endpoint)
            }
        }
        wake()
    }

    private func wake() { pause.wake() }

    // MARK: Rendezvous

    public func join() async {
        state.withLock { $0.joined = true }
        wake()
    }

    public func leave() async {
        state.withLock { $0.joined = false }
    }

    public func put(key: RecordKey, valueID: UInt64, payload: [UInt8]) async throws(RendezvousError) {
        let sequence = nextSequence()
        state.withLock { $0.published[key, default: [:]][valueID] = payload }
        let record = peer.identity.record(key: key, valueID: valueID, sequence: sequence, ttl: ttl, payload: payload)
        try await store(record)
    }

    public func remove(key: RecordKey, valueID: UInt64) async throws(RendezvousError) {
        let sequence = nextSequence()
        state.withLock { state in
            state.published[key]?[valueID] = nil
            if state.published[key]?.isEmpty == true { state.published[key] = nil }
        }
        let tombstone = peer.identity.record(key: key, valueID: valueID, sequence: sequence, ttl: ttl, payload: [], tombstone: true)
        try await store(tombstone)
    }

    public func get(key: RecordKey) async throws(RendezvousError) -> [RendezvousValue] {
        do {
            return try await peer.get(key).filter { !$0.isTombstone }.map(Self.value)
        } catch {
            throw .notStored("get failed: \(error)")
        }
    }

    public func subscribe(key: RecordKey) async -> AsyncStream<RendezvousChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: RendezvousChange.self)
        let previous = state.withLock { state in
            defer { state.subscribers[key] = continuation }
            return state.subscribers[key]
        }
        previous?.finish()
        do {
            // Alone, the node holds its own subscription and no one else does.
            let alone = ((try? await peer.snapshot())?.contacts ?? 0) == 0
            let holders = try await peer.subscribe(key)
            state.withLock { state in
                if holders == 0 || alone { state.unplaced.insert(key) } else { state.unplaced.remove(key) }
            }
        } catch {
            state.withLock { _ = $0.unplaced.insert(key) }
            logger.warning("subscription failed", metadata: ["key": "\(key)", "reason": "\(error)"])
        }
        return stream
    }

    public func unsubscribe(key: RecordKey) async {
        state.withLock { state in
            state.unplaced.remove(key)
            return state.subscribers.removeValue(forKey: key)
        }?.finish()
        try? await peer.unsubscribe(key)
    }

    public func stats() async -> RendezvousStats {
        let snapshot = try? await peer.snapshot()
        let (subscriptions, stored) = state.withLock { ($0.subscribers.count, $0.published.values.reduce(0) { $0 + $1.count }) }
        var stats = RendezvousStats(engine: "native", peers: snapshot?.contacts ?? 0, storedValues: stored,
                                    subscriptions: subscriptions)
        stats.stage = snapshot.flatMap { RendezvousStage(rawValue: $0.stage.rawValue) } ?? .alone
        stats.overlayID = snapshot?.overlay
        if let snapshot {
            var refusals = snapshot.refusals
            for (rejection, count) in snapshot.counters.rejections { refusals[rejection.reason, default: 0] += count }
            refusals.merge(snapshot.counters.limitHits) { $0 + $1 }
            stats.refusals = refusals
        }
        return stats
    }

    // MARK: internals

    private func nextSequence() -> UInt64 {
        let sequence = state.withLock { state -> UInt64 in
            state.sequence += 1
            return state.sequence
        }
        sequenceStore.save(sequence)
        return sequence
    }

    private func store(_ record: Record) async throws(RendezvousError) {
        do {
            let result = try await peer.put(record)
            if result.acks == 0, result.attempted > 0 {
                throw RendezvousError.notStored("no holder accepted it: \(result.rejections.map { "\($0.key.reason)" })")
            }
        } catch let error as RendezvousError {
            throw error
        } catch {
            throw .notStored("\(error)")
        }
    }

    private static func value(_ record: Record) -> RendezvousValue {
        RendezvousValue(key: record.key, owner: record.owner, valueID: record.valueID, sequence: record.sequence,
                        payload: record.payload)
    }

    private func deliverNotifications() async {
        for await notification in peer.notifications {
            let change: RendezvousChange = switch notification.change {
            case .new(let record), .changed(let record): .upserted(Self.value(record))
            case .deleted(let tombstone): .removed(notification.key, tombstone.slot)
            case .expired(let slot): .removed(notification.key, slot)
            }
            _ = state.withLock { $0.subscribers[notification.key] }?.yield(change)
        }
    }

    /// While joined: bootstrap until the routing table holds someone, then put our values
    /// again so nothing put while alone stays local; join through seeds added meanwhile (the
    /// DHT node merges overlays itself). Checks every `retryInterval`, or at once after
    /// `join()` or `addSeeds(_:)`.
    private func stayConnected() async {
        var wasConnected = false
        while !Task.isCancelled {
            let (joined, seeds) = state.withLock { ($0.joined, $0.seeds) }
            if joined {
                var contacts = (try? await peer.snapshot())?.contacts ?? 0
                let newSeeds = state.withLock { state in
                    defer { state.newSeeds = [] }
                    return state.newSeeds
                }
                if contacts == 0, !seeds.isEmpty {
                    let reached = (try? await peer.bootstrap(seeds)) ?? 0
                    if reached > 0 { logger.info("joined the DHT", metadata: ["contacts": "\(reached)"]) }
                    contacts = reached
                } else if contacts > 0, !newSeeds.isEmpty {
                    // A seed given while connected may lead into another overlay (two groups
                    // of islands formed apart): join through it. The DHT node sees the other
                    // overlay's id and merges: it republishes its values and looks its
                    // subscriptions up again (Kademlia's DHTNode+Merging).
                    let reached = (try? await peer.bootstrap(newSeeds)) ?? 0
                    logger.info("joined through new seeds", metadata: [
                        "seeds": "\(newSeeds.map(\.description).joined(separator: ","))",
                        "contacts_before": "\(contacts)", "contacts": "\(reached)",
                    ])
                    contacts = max(contacts, reached)
                }
                let connected = contacts > 0
                if connected, !wasConnected {
                    await resubscribeAll()
                    await republishAll()
                }
                wasConnected = connected
            } else {
                wasConnected = false
            }
            // Pause until the next check, or until join()/addSeeds() cut the pause short.
            await pause.wait(for: retryInterval)
        }
    }

    /// Subscriptions made while alone reached no holder; place them now that there are peers.
    /// Only those whose first placement finished: subscribing again to a key whose
    /// subscription is still being placed would replace it in the DHT node, and the first
    /// caller would wait forever.
    private func resubscribeAll() async {
        let keys = state.withLock { state in
            defer { state.unplaced = [] }
            return state.unplaced.filter { state.subscribers[$0] != nil }.sorted()
        }
        for key in keys {
            let holders = (try? await peer.subscribe(key)) ?? 0
            if holders == 0 { state.withLock { _ = $0.unplaced.insert(key) } }
        }
    }

    private func republishAll() async {
        let values = state.withLock { $0.published }
        for (key, slots) in values.sorted(by: { $0.key < $1.key }) {
            for (valueID, payload) in slots.sorted(by: { $0.key < $1.key }) {
                try? await put(key: key, valueID: valueID, payload: payload)
            }
        }
    }
}
