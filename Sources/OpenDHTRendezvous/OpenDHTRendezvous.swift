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
///   cancelled, and its copies expire (`Announcements`). Readers keep the newest sequence
///   per slot (`KeyView`), so stale copies never show; a removal is a tombstone record, put
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
/// - Sequences, the published table and staying connected are the shared client's
///   (`RendezvousClient`, `ClientEngine`): while joined and alone it bootstraps through the
///   seeds (OpenDHT keeps its routing table itself once it knows a node); on connecting it
///   listens again on every key and puts every value again. Sequence numbers start above the
///   wall clock (and a `sequenceStore`'s last, when one is given; the daemon gives none).
public final class OpenDHTRendezvous: ClientEngine {
    /// OpenDHT's lifetime of a value of its default type, in seconds.
    public static let valueLifetime: UInt32 = 600

    /// The OpenDHT network id of a z2z network.
    public static func openDHTNetwork(for network: NetworkID) -> UInt32 {
        UInt32(truncatingIfNeeded: network.rawValue >> 32)
    }

    /// One subscription's OpenDHT listen and what it has seen.
    struct Listen {
        var generation: Int
        var listening: OpenDHTNode.Listening?
        var view: KeyView
    }

    struct State {
        var announcements = Announcements()
        var listens: [RecordKey: Listen] = [:]
        var rejected: [String: Int] = [:]
        /// When `maintain()` next wakes every key's search (`OpenDHTNode.revive`).
        var nextRevival: ContinuousClock.Instant?
    }

    /// How often `maintain()` wakes the searches of every key listened to or put.
    static let revivalInterval: Duration = .seconds(30)

    public let node: OpenDHTNode
    public let identity: Identity
    public let network: NetworkID
    public let client: ClientShell
    /// Admission (`SignedValue`): values are tagged with it, and untagged ones are dropped.
    private let networkKey: NetworkKey?
    private let logger: Logger
    /// How long a put or get waits for OpenDHT's answer (see `OpenDHTNode.put`).
    private let putTimeout: Duration
    private let state = Mutex(State())

    /// Starts the OpenDHT node on UDP `port` (0: any).
    /// - Parameters:
    ///   - seeds: OpenDHT nodes to join through (other gateways' OpenDHT ports, or a `dhtnode`).
    ///   - wallClockMilliseconds: now, in milliseconds since 1970: the floor of our sequence
    ///     numbers, so a restarted leader's values are newer than those of its last run.
    public init(identity: Identity, network: NetworkID, port: UInt16, seeds: [Endpoint],
                wallClockMilliseconds: UInt64, sequenceStore: SequenceStore = .none, networkKey: NetworkKey? = nil,
                retryInterval: Duration = .seconds(5), putTimeout: Duration = .seconds(3), ipv6: Bool = true,
                logger: Logger = Logger(label: "z2z.rendezvous")) throws(OpenDHTNode.StartError) {
        node = try OpenDHTNode(port: port, network: Self.openDHTNetwork(for: network), ipv6: ipv6)
        self.identity = identity
        self.network = network
        self.networkKey = networkKey
        self.logger = logger
        self.putTimeout = putTimeout
        client = ClientShell(identity: identity, ttl: Self.valueLifetime, seeds: seeds, sequenceStore: sequenceStore,
                             wallClockMilliseconds: wallClockMilliseconds, retryInterval: retryInterval,
                             replacement: .all, logger: logger)
    }

    /// Serves the engine: joins through the seeds while no node is known, puts our values
    /// again once connected, and ends tombstones' refreshes. Runs until cancelled, then
    /// stops the OpenDHT node.
    public func run() async {
        await stayConnected()
        client.close()
        await node.close()
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

    // MARK: Rendezvous (the rest is ClientEngine's)

    public func get(key: RecordKey) async throws(RendezvousError) -> [RendezvousValue] {
        guard let values = await node.get(key: Self.openDHTKey(key), timeout: putTimeout) else {
            if client.isClosed { throw .shutDown }
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

    public func stats() async -> RendezvousStats {
        let counts = node.nodeCounts
        let client = self.client.snapshot
        var stats = RendezvousStats(engine: "opendht", peers: counts.good, storedValues: client.publishedCount,
                                    subscriptions: client.subscriptions.count)
        stats.stage = counts.good > 0 ? .structure : .bootstrapping
        return stats
    }

    /// Values read from OpenDHT and dropped, by `SignedValue.Rejection` reason.
    public var rejections: [String: Int] { state.withLock { $0.rejected } }

    // MARK: ClientEngine (the shell's calls)

    public func reachablePeers() async -> Int { node.nodeCounts.good }

    /// OpenDHT only starts joining here; a later round sees the nodes it found.
    public func bootstrap(_ seeds: [Endpoint]) async -> Int {
        for seed in seeds { node.bootstrap(host: seed.host, port: seed.port) }
        return node.nodeCounts.good
    }

    /// A seed in another mesh (two groups of islands formed apart) merges the meshes.
    /// OpenDHT's `bootstrap` list is tried only while the node knows nobody, so the seed is
    /// pinged as well: without the ping nothing crossed in 30 s; with it, OpenDHT's searches
    /// take in the other mesh's nodes and both meshes' values reach every listener within
    /// 0.1 s (`twoMeshesFormedApart…` test).
    public func joinThrough(_ seeds: [Endpoint]) async -> Int {
        for seed in seeds {
            node.bootstrap(host: seed.host, port: seed.port)
            node.ping(address: seed.host, port: seed.port)
        }
        return node.nodeCounts.good
    }

    public func store(_ record: Record) async throws(RendezvousError) {
        guard !client.isClosed else { throw .shutDown }
        let id = UInt64.random(in: 1 ... .max)
        let key = Self.openDHTKey(record.key)
        let replaced = state.withLock {
            $0.announcements.announce(record, openDHTID: id, now: .now, tombstoneLifetime: .seconds(Int(Self.valueLifetime)))
        }
        // A newer write of the slot went out meanwhile: this one is stale.
        guard let replaced else { return }
        for old in replaced { node.cancelPut(key: key, id: old) }
        let bytes = SignedValue.encode(record, network: network, key: networkKey)
        let outcome = await node.put(key: key, id: id, data: bytes, permanent: true, timeout: putTimeout)
        logger.debug("OpenDHT put", metadata: [
            "key": "\(record.key)", "value_id": "\(record.valueID)", "sequence": "\(record.sequence)",
            "tombstone": "\(record.isTombstone)", "bytes": "\(bytes.count)", "outcome": "\(outcome)",
        ])
        // Pending: OpenDHT goes on announcing it; the gateway's next operation need not wait.
        guard outcome == .refused else { return }
        if client.isClosed { throw .shutDown }
        // Alone, the put waits in OpenDHT and the reconnect loop puts it again on joining.
        if node.nodeCounts.good == 0 { return }
        // Nodes are known, so the key's search may be one OpenDHT gave up on while the link
        // was down: woken, the gateway's retry finds them.
        node.revive(key: key)
        throw .notStored("no OpenDHT node stored it")
    }

    /// Listens on `key`. Placed again (same generation), the key's view carries over, so
    /// nothing already reported is reported twice, and the old listen is cancelled.
    public func place(_ key: RecordKey, generation: Int) async -> Bool {
        // A new generation (subscribed again) starts from an empty view.
        let replaced = state.withLock { state -> OpenDHTNode.Listening? in
            guard state.listens[key]?.generation != generation else { return nil }
            let fresh = Listen(generation: generation, listening: nil, view: KeyView(key: key))
            return state.listens.updateValue(fresh, forKey: key)?.listening
        }
        if let replaced { node.cancelListen(replaced) }
        logger.debug("OpenDHT listen", metadata: ["key": "\(key)"])
        // Placed again on joining again: the key's search may have died while alone.
        node.revive(key: Self.openDHTKey(key))
        let listening = node.listen(key: Self.openDHTKey(key)) { [weak self] event in
            self?.deliver(event, key: key, generation: generation)
        }
        let stale = state.withLock { state -> OpenDHTNode.Listening? in
            // Unsubscribed (or subscribed again) meanwhile: the new listen is the stale one.
            guard state.listens[key]?.generation == generation else { return listening }
            defer { state.listens[key]?.listening = listening }
            return state.listens[key]?.listening
        }
        if let stale { node.cancelListen(stale) }
        return listening != nil
    }

    public func cancel(_ key: RecordKey) async {
        if let listening = state.withLock({ $0.listens.removeValue(forKey: key)?.listening }) { node.cancelListen(listening) }
    }

    /// Stops refreshing tombstones that outlived the copies they hide, and every
    /// `revivalInterval` wakes the searches of the keys listened to or put: a search that
    /// died while the link was down would otherwise stay silent though its nodes are back
    /// (`OpenDHTNode.revive`), and nothing else touches a key that has no new writes.
    public func maintain() async {
        let now = ContinuousClock.now
        let (ended, revive) = state.withLock { state -> ([(key: RecordKey, openDHTID: UInt64)], Set<RecordKey>) in
            let ended = state.announcements.expire(now: now)
            guard state.nextRevival.map({ now >= $0 }) ?? true else { return (ended, []) }
            state.nextRevival = now + Self.revivalInterval
            return (ended, Set(state.listens.keys).union(state.announcements.slots.keys))
        }
        for ended in ended {
            node.cancelPut(key: Self.openDHTKey(ended.key), id: ended.openDHTID)
        }
        if node.nodeCounts.good > 0 {
            for key in revive { node.revive(key: Self.openDHTKey(key)) }
        }
    }

    // MARK: internals

    static func openDHTKey(_ key: RecordKey) -> OpenDHTNode.Key {
        OpenDHTNode.Key(key.point.bytes)
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

    /// A listen event, on OpenDHT's thread: folded into the key's view, changes passed on
    /// (under the lock, so that two events' changes keep their order).
    private func deliver(_ event: OpenDHTNode.ListenEvent, key: RecordKey, generation: Int) {
        let record = event.expired ? nil : decode(event.value.data, key: key)
        logger.debug("OpenDHT listen event", metadata: [
            "key": "\(key)", "expired": "\(event.expired)", "valid": "\(record != nil)", "bytes": "\(event.value.data.count)",
        ])
        if !event.expired, record == nil { return }
        state.withLock { state in
            guard var listen = state.listens[key], listen.generation == generation else { return }
            let changes = if let record {
                listen.view.add(record, openDHTID: event.value.id)
            } else {
                listen.view.expire(openDHTID: event.value.id)
            }
            state.listens[key] = listen
            for change in changes { client.deliver(change, generation: generation) }
        }
    }
}
