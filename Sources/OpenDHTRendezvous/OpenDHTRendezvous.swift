import Kademlia
import Logging
import Primitives
import Rendezvous
import Synchronization

/// The OpenDHT rendezvous engine: island leaders meet in an OpenDHT network (libopendht-c)
/// instead of z2z's own DHT, behind the same `Rendezvous` interface.
///
/// How our contract maps onto OpenDHT:
/// - Keys: the first 160 bits of our 256-bit `RecordKey` (already a SHA-256) are the
///   OpenDHT hash; the full key travels inside the value and is checked on reading.
/// - Values: each OpenDHT value carries one of our signed records (`SignedValue`): readers
///   verify signature and owner binding themselves, and never rely on OpenDHT's own
///   signing (which would need an RSA identity per leader).
/// - Replacing and removing: OpenDHT refuses to edit an unsigned value, so every put is a
///   new OpenDHT value with a fresh id; the permanent put of the value it replaces is
///   cancelled, and its copies expire. Readers keep the newest sequence per slot
///   (`KeyView`), so stale copies never show; a removal is a tombstone record, put
///   permanently for one value lifetime so it outlives the copies it hides.
/// - Lifetime: OpenDHT's default value type lives ten minutes; our values are permanent
///   puts, which OpenDHT refreshes until cancelled. A leader that dies silently is
///   forgotten ten minutes after its last refresh (`ttl` is recorded as 600 s to match).
/// - Network: OpenDHT's 32-bit network id is the top half of our `NetworkID`
///   (`openDHTNetwork(for:)`), so only gateways of one network name meet, and a hand-started
///   `dhtnode -n <id>` can serve as their bootstrap node.
/// - Admission: with a network key every value carries its tag (`SignedValue`); OpenDHT
///   nodes without the key still route and hold our values, but no gateway takes a record
///   from them.
/// - Subscriptions are OpenDHT listens; their events (values present, new, expired) are
///   folded into a `KeyView` per key and reported as upserts and removals.
public final class OpenDHTRendezvous: Rendezvous {
    /// OpenDHT's lifetime of a value of its default type, in seconds.
    public static let valueLifetime: UInt32 = 600

    /// The OpenDHT network id of a z2z network.
    public static func openDHTNetwork(for network: NetworkID) -> UInt32 {
        UInt32(truncatingIfNeeded: network.rawValue >> 32)
    }

    struct Published {
        var payload: [UInt8]
        var openDHTID: UInt64
    }

    struct Tombstone {
        var openDHTID: UInt64
        var until: ContinuousClock.Instant
    }

    struct Subscription {
        var generation: Int
        var listening: OpenDHTNode.Listening?
        var continuation: AsyncStream<RendezvousChange>.Continuation
        var view: KeyView
    }

    struct State {
        var joined = false
        var closed = false
        var sequence: UInt64
        var published: [RecordKey: [UInt64: Published]] = [:]
        var tombstones: [RecordKey: [UInt64: Tombstone]] = [:]
        var subscriptions: [RecordKey: Subscription] = [:]
        var nextGeneration = 0
        var seeds: [Endpoint]
        var rejected: [String: Int] = [:]
    }

    public let node: OpenDHTNode
    public let identity: Identity
    public let network: NetworkID
    /// Admission (`SignedValue`): values are tagged with it, and untagged ones are dropped.
    private let networkKey: NetworkKey?
    private let logger: Logger
    private let retryInterval: Duration
    /// How long a put or get waits for OpenDHT's answer (see `OpenDHTNode.put`).
    private let putTimeout: Duration
    private let state: Mutex<State>
    /// The wait between rounds of `stayConnected`; `wake()` cuts it short.
    private let pause = Pause()

    /// Starts the OpenDHT node on UDP `port` (0: any).
    /// - Parameters:
    ///   - seeds: OpenDHT nodes to join through (other gateways' OpenDHT ports, or a `dhtnode`).
    ///   - wallClockMilliseconds: now, in milliseconds since 1970: the floor of our sequence
    ///     numbers, so a restarted leader's values are newer than those of its last run.
    public init(identity: Identity, network: NetworkID, port: UInt16, seeds: [Endpoint],
                wallClockMilliseconds: UInt64, networkKey: NetworkKey? = nil, retryInterval: Duration = .seconds(5),
                putTimeout: Duration = .seconds(3), ipv6: Bool = true, logger: Logger = Logger(label: "z2z.rendezvous")) throws(OpenDHTNode.StartError) {
        node = try OpenDHTNode(port: port, network: Self.openDHTNetwork(for: network), ipv6: ipv6)
        self.identity = identity
        self.network = network
        self.networkKey = networkKey
        self.logger = logger
        self.retryInterval = retryInterval
        self.putTimeout = putTimeout
        state = Mutex(State(sequence: wallClockMilliseconds, seeds: seeds))
    }

    /// Serves the engine: joins through the seeds while no node is known, puts our values
    /// again once connected, and ends tombstones' refreshes. Runs until cancelled, then
    /// stops the OpenDHT node.
    public func run() async {
        await stayConnected()
        let subscriptions = state.withLock { state in
            state.closed = true
            defer { state.subscriptions = [:] }
            return state.subscriptions.values.map(\.continuation)
        }
        for continuation in subscriptions { continuation.finish() }
        await node.close()
    }

    /// More OpenDHT nodes to join through. A seed in another mesh (two groups of islands
    /// formed apart) merges the meshes. OpenDHT's `bootstrap` list is tried only while the
    /// node knows nobody, so the seed is pinged as well: without the ping nothing crossed in
    /// 30 s; with it, OpenDHT's searches take in the other mesh's nodes and both meshes'
    /// values reach every listener within 0.1 s (`twoMeshesFormedApart…` test).
    public func addSeeds(_ endpoints: [Endpoint]) {
        let new = state.withLock { state in
            let new = endpoints.filter { !state.seeds.contains($0) }
            state.seeds += new
            return state.joined ? new : []
        }
        for seed in new {
            node.bootstrap(host: seed.host, port: seed.port)
            node.ping(address: seed.host, port: seed.port)
        }
        wake()
    }



    /// The OpenDHT nodes to save for a restart (the daemon's routing cache): OpenDHT's good
    /// nodes, their 160-bit ids padded with zeros to our 256 bits. Only the endpoints matter
    /// when they are read back: they are seeds.
    public func routingCache(limit: Int = 256) -> [Contact] {
        node.knownNodes(limit: limit).compactMap { known in
            guard let address = Endpoint.Address(bytes: known.address), known.id.count == 20 else { return nil }
            return Contact(id: NodeID(bytes: known.id + [UInt8](repeating: 0, count: 12)), endpoint: Endpoint(address: address, port: known.port))
        }
    }

    // MARK: Rendezvous

    public func join() async {
        let seeds = state.withLock { state in
            state.joined = true
            return state.seeds
        }
        for seed in seeds { node.bootstrap(host: seed.host, port: seed.port) }
        wake()
    }

    public func leave() async {
        state.withLock { $0.joined = false }
    }

    public func put(key: RecordKey, valueID: UInt64, payload: [UInt8]) async throws(RendezvousError) {
        let id = UInt64.random(in: 1 ... .max)
        let (sequence, replaced, tombstone) = try state.withLock { state throws(RendezvousError) in
            guard !state.closed else { throw .shutDown }
            state.sequence += 1
            let replaced = state.published[key]?[valueID]
            state.published[key, default: [:]][valueID] = Published(payload: payload, openDHTID: id)
            let tombstone = state.tombstones[key]?.removeValue(forKey: valueID)
            return (state.sequence, replaced, tombstone)
        }
        let openDHTKey = Self.openDHTKey(key)
        for old in [replaced?.openDHTID, tombstone?.openDHTID].compactMap({ $0 }) {
            node.cancelPut(key: openDHTKey, id: old)
        }
        let record = identity.record(key: key, valueID: valueID, sequence: sequence, ttl: Self.valueLifetime,
                                     payload: payload)
        try await store(record, id: id)
    }

    public func remove(key: RecordKey, valueID: UInt64) async throws(RendezvousError) {
        let id = UInt64.random(in: 1 ... .max)
        let until = ContinuousClock.now + .seconds(Int(Self.valueLifetime))
        let (sequence, removed, tombstone) = try state.withLock { state throws(RendezvousError) in
            guard !state.closed else { throw .shutDown }
            state.sequence += 1
            let removed = state.published[key]?.removeValue(forKey: valueID)
            if state.published[key]?.isEmpty == true { state.published[key] = nil }
            let tombstone = state.tombstones[key]?.updateValue(Tombstone(openDHTID: id, until: until), forKey: valueID)
            if tombstone == nil { state.tombstones[key, default: [:]][valueID] = Tombstone(openDHTID: id, until: until) }
            return (state.sequence, removed, tombstone)
        }
        let openDHTKey = Self.openDHTKey(key)
        for old in [removed?.openDHTID, tombstone?.openDHTID].compactMap({ $0 }) {
            node.cancelPut(key: openDHTKey, id: old)
        }
        let record = identity.record(key: key, valueID: valueID, sequence: sequence, ttl: Self.valueLifetime,
                                     payload: [], tombstone: true)
        try await store(record, id: id)
    }

    public func get(key: RecordKey) async throws(RendezvousError) -> [RendezvousValue] {
        guard let values = await node.get(key: Self.openDHTKey(key), timeout: putTimeout) else {
            if state.withLock({ $0.closed }) { throw .shutDown }
            // Alone, a lookup finds nothing and reports failure: there is nothing to read.
            if node.nodeCounts.good == 0 { return [] }
            throw .notStored("the OpenDHT lookup failed")
        }
        var view = KeyView(key: key)
        for value in values {
            guard let record = decode(value.data, key: key) else { continue }
            _ = view.add(record, openDHTID: value.id)
        }
        return view.values.values.sorted { $0.slot < $1.slot }
    }

    public func subscribe(key: RecordKey) async -> AsyncStream<RendezvousChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: RendezvousChange.self)
        let (generation, previous) = state.withLock { state -> (Int?, Subscription?) in
            guard !state.closed else { return (nil, nil) }
            state.nextGeneration += 1
            let previous = state.subscriptions.updateValue(
                Subscription(generation: state.nextGeneration, listening: nil, continuation: continuation,
                             view: KeyView(key: key)), forKey: key)
            return (state.nextGeneration, previous)
        }
        if let previous { end(previous) }
        guard let generation else {
            continuation.finish()
            return stream
        }
        logger.debug("OpenDHT listen", metadata: ["key": "\(key)"])
        let listening = node.listen(key: Self.openDHTKey(key)) { [weak self] event in
            self?.deliver(event, key: key, generation: generation)
        }
        let orphan = state.withLock { state -> OpenDHTNode.Listening? in
            guard state.subscriptions[key]?.generation == generation else { return listening }
            state.subscriptions[key]?.listening = listening
            return nil
        }
        // Unsubscribed (or subscribed again) meanwhile.
        if let orphan { node.cancelListen(orphan) }
        return stream
    }

    public func unsubscribe(key: RecordKey) async {
        if let subscription = state.withLock({ $0.subscriptions.removeValue(forKey: key) }) { end(subscription) }
    }

    public func stats() async -> RendezvousStats {
        let counts = node.nodeCounts
        let (subscriptions, stored) = state.withLock { state in
            (state.subscriptions.count, state.published.values.reduce(0) { $0 + $1.count })
        }
        var stats = RendezvousStats(engine: "opendht", peers: counts.good, storedValues: stored,
                                    subscriptions: subscriptions)
        stats.stage = counts.good > 0 ? .structure : .alone
        return stats
    }

    /// Values read from OpenDHT and dropped, by `SignedValue.Rejection` reason.
    public var rejections: [String: Int] { state.withLock { $0.rejected } }

    // MARK: internals

    static func openDHTKey(_ key: RecordKey) -> OpenDHTNode.Key {
        OpenDHTNode.Key(key.point.bytes)
    }

    private func store(_ record: Record, id: UInt64) async throws(RendezvousError) {
        let bytes = SignedValue.encode(record, network: network, key: networkKey)
        let outcome = await node.put(key: Self.openDHTKey(record.key), id: id, data: bytes, permanent: true,
                                     timeout: putTimeout)
        logger.debug("OpenDHT put", metadata: [
            "key": "\(record.key)", "value_id": "\(record.valueID)", "sequence": "\(record.sequence)",
            "tombstone": "\(record.isTombstone)", "bytes": "\(bytes.count)", "outcome": "\(outcome)",
        ])
        // Pending: OpenDHT goes on announcing it; the gateway's next operation need not wait.
        guard outcome == .refused else { return }
        if state.withLock({ $0.closed }) { throw .shutDown }
        // Alone, the put waits in OpenDHT and `stayConnected` puts it again on joining.
        if node.nodeCounts.good == 0 { return }
        throw .notStored("no OpenDHT node stored it")
    }

    private func decode(_ bytes: [UInt8], key: RecordKey) -> Record? {
        do {
            return try SignedValue.decode(bytes, network: network, key: key, networkKey: networkKey)
        } catch {
            state.withLock { $0.rejected[error.reason, default: 0] += 1 }
            logger.debug("OpenDHT value dropped", metadata: ["key": "\(key)", "reason": "\(error.reason)"])
            return nil
        }
    }

    /// A listen event, on OpenDHT's thread: folded into the key's view, changes passed on.
    private func deliver(_ event: OpenDHTNode.ListenEvent, key: RecordKey, generation: Int) {
        let record = event.expired ? nil : decode(event.value.data, key: key)
        logger.debug("OpenDHT listen event", metadata: [
            "key": "\(key)", "expired": "\(event.expired)", "valid": "\(record != nil)", "bytes": "\(event.value.data.count)",
        ])
        if !event.expired, record == nil { return }
        state.withLock { state in
            guard var subscription = state.subscriptions[key], subscription.generation == generation else { return }
            let changes = if let record {
                subscription.view.add(record, openDHTID: event.value.id)
            } else {
                subscription.view.expire(openDHTID: event.value.id)
            }
            state.subscriptions[key] = subscription
            for change in changes { subscription.continuation.yield(change) }
        }
    }

    private func end(_ subscription: Subscription) {
        subscription.continuation.finish()
        if let listening = subscription.listening { node.cancelListen(listening) }
    }

    private func wake() { pause.wake() }

    /// While joined and alone: bootstrap through the seeds (OpenDHT keeps its routing table
    /// itself once it knows a node). On connecting: put our values again, so nothing put
    /// while alone stays unstored. Always: stop refreshing tombstones that outlived the copies they hide.
    private func stayConnected() async {
        var wasConnected = false
        while !Task.isCancelled {
            let (joined, seeds) = state.withLock { ($0.joined, $0.seeds) }
            let connected = node.nodeCounts.good > 0
            if joined, !connected {
                for seed in seeds { node.bootstrap(host: seed.host, port: seed.port) }
            }
            if joined, connected, !wasConnected {
                logger.info("joined OpenDHT", metadata: ["nodes": "\(node.nodeCounts.good)"])
                // After a time with no node (a link down), OpenDHT's listens may have given
                // up on their searches: listen again, as well as put again.
                relisten()
                await republishAll()
            }
            wasConnected = joined && connected
            expireTombstones()

            await pause.wait(for: retryInterval)
        }
    }

    /// Listens again on every subscribed key (a new OpenDHT search over the nodes known now)
    /// and cancels the old listen; the key's view carries over, so nothing already reported
    /// is reported twice.
    private func relisten() {
        let keys = state.withLock { state in state.subscriptions.map { ($0.key, $0.value.generation) } }
        for (key, generation) in keys {
            let listening = node.listen(key: Self.openDHTKey(key)) { [weak self] event in
                self?.deliver(event, key: key, generation: generation)
            }
            let stale = state.withLock { state -> OpenDHTNode.Listening? in
                guard state.subscriptions[key]?.generation == generation else { return listening }
                defer { state.subscriptions[key]?.listening = listening }
                return state.subscriptions[key]?.listening
            }
            if let stale { node.cancelListen(stale) }
        }
    }

    private func republishAll() async {
        let values = state.withLock { $0.published }
        for (key, slots) in values.sorted(by: { $0.key < $1.key }) {
            for (valueID, published) in slots.sorted(by: { $0.key < $1.key }) {
                try? await put(key: key, valueID: valueID, payload: published.payload)
            }
        }
    }

    private func expireTombstones() {
        let now = ContinuousClock.now
        let done = state.withLock { state -> [(RecordKey, UInt64)] in
            var done: [(RecordKey, UInt64)] = []
            for (key, slots) in state.tombstones {
                for (valueID, tombstone) in slots where tombstone.until <= now {
                    done.append((key, tombstone.openDHTID))
                    state.tombstones[key]?[valueID] = nil
                }
                if state.tombstones[key]?.isEmpty == true { state.tombstones[key] = nil }
            }
            return done
        }
        for (key, id) in done { node.cancelPut(key: Self.openDHTKey(key), id: id) }
    }
}
