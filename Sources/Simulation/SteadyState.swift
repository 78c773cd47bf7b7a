import Kademlia
import Primitives

/// The engines benchmark's steady state (`z2z-bench engines`, BENCHMARKS.md) on virtual
/// time, to see where a native node's idle bytes go without an 11-minute real run: `nodes`
/// nodes join through node 0 every 10 ms; each puts one 200-byte value (lifetime `ttl`)
/// under one of `keys` keys and subscribes to another; after `settle`, `idle` is measured
/// (payload + IP/UDP per datagram, by message kind); then `trials` sequential puts on fresh
/// keys, each with a get right after and a subscriber on a third node.
public struct SteadyState: Sendable {
    public var nodes = 64
    public var keys = 16
    public var ttl: UInt32 = 300
    public var settle: Interval = .seconds(30)
    public var idle: Interval = .minutes(11)
    public var trials = 40

    public init(nodes: Int = 64) { self.nodes = nodes }

    public struct Result: Hashable, Sendable, Codable {
        public var nodes: Int
        public var idleBytesPerNodePerSecond: Double
        public var idleDatagramsPerNodePerSecond: Double
        /// Bytes sent in the idle window by message kind (payload + headers), per node per second.
        public var idleBytesByKind: [String: Double]
        public var idleMessages: [String: Int]
        /// Notifications the owners were given in the idle window (nothing changes then).
        public var idleNotifications: Int
        public var putMilliseconds: Percentiles
        public var notifyMilliseconds: Percentiles
        public var getMilliseconds: Percentiles
        public var readAfterWriteMisses: Int
        public var notificationsMissed: Int
        public var putAcks: Percentiles
    }

    public func run(seed: UInt64, network: NetworkModel = NetworkModel(linkLatency: 0.05...0.1, jitterMean: 0.02), configure: (inout Configuration) -> Void = { _ in }) -> Result {
        let simulation = Simulation(seed: seed, network: network, configure: configure)
        for i in 0..<nodes {
            simulation.schedule(at: .zero + .milliseconds(10 * Double(i))) { sim in sim.join(bootstrap: i == 0 ? [] : [0]) }
        }
        simulation.run(for: .milliseconds(10 * Double(nodes)) + .seconds(20))
        let keyList = (0..<keys).map { RecordKey.make(network: simulation.networkID, namespace: "steady", name: "key-\($0)") }
        for i in 0..<nodes {
            let identity = simulation.node(i).identity
            let record = identity.record(key: keyList[i % keys], valueID: 1, sequence: 1, ttl: ttl, payload: [UInt8](repeating: 0x5a, count: 200))
            simulation.command(i, .subscribe(RequestID(UInt64(1_000_000 + i)), keyList[(i + 1) % keys]))
            simulation.command(i, .put(RequestID(UInt64(2_000_000 + i)), record))
        }
        simulation.run(for: settle)

        var notifications = 0
        simulation.onEffect = { _, effect in if case .notification = effect { notifications += 1 } }
        let before = simulation.traffic
        let sentBefore = simulation.messagesSent
        let bytesBefore = simulation.bytesByKind
        simulation.run(for: idle)
        let traffic = simulation.traffic - before
        var messages: [String: Int] = [:]
        for (kind, n) in simulation.messagesSent where n != sentBefore[kind] { messages[kind] = n - (sentBefore[kind] ?? 0) }
        var byKind: [String: Double] = [:]
        for (kind, n) in simulation.bytesByKind where n != bytesBefore[kind] {
            byKind[kind] = Double(n - (bytesBefore[kind] ?? 0)) / Double(nodes) / idle.seconds
        }
        let idleNotifications = notifications

        // Trials: put on w, get on r once the put returned, subscriber s subscribed 5 s before.
        var puts: [Double] = [], gets: [Double] = [], notifies: [Double] = [], acks: [Double] = []
        var misses = 0, missedNotifications = 0
        for trial in 0..<trials {
            let w = simulation.randomIndex(below: nodes)
            var r = simulation.randomIndex(below: nodes)
            while r == w { r = simulation.randomIndex(below: nodes) }
            var s = simulation.randomIndex(below: nodes)
            while s == w || s == r { s = simulation.randomIndex(below: nodes) }
            let key = RecordKey.make(network: simulation.networkID, namespace: "steady", name: "trial-\(trial)")
            let base = UInt64(3_000_000 + trial * 10)
            simulation.command(s, .subscribe(RequestID(base), key))
            simulation.run(for: .seconds(5))
            let record = simulation.node(w).identity.record(key: key, valueID: 1, sequence: 1, ttl: ttl, payload: [UInt8](repeating: 0x5a, count: 200))
            let start = simulation.now
            var putDone: Instant?, notified: Instant?, got: Bool?
            simulation.onEffect = { index, effect in
                switch effect {
                case .completed(RequestID(base + 1), .put(let n, _, _, _)):
                    putDone = simulation.now
                    acks.append(Double(n))
                    simulation.command(r, .get(RequestID(base + 2), key))
                case .completed(RequestID(base + 2), .get(let records, let report)):
                    gets.append(report.duration.seconds * 1000)
                    got = records.contains { $0.owner == record.owner }
                case .notification(let n) where index == s && n.key == key:
                    if notified == nil { notified = simulation.now }
                default: break
                }
            }
            simulation.command(w, .put(RequestID(base + 1), record))
            simulation.run(for: .seconds(10))
            if let putDone { puts.append(putDone.since(start).seconds * 1000) }
            if let notified { notifies.append(notified.since(start).seconds * 1000) } else { missedNotifications += 1 }
            if got != true { misses += 1 }
            simulation.command(s, .unsubscribe(key))
        }
        simulation.onEffect = nil
        return Result(
            nodes: nodes, idleBytesPerNodePerSecond: Double(traffic.bytes) / Double(nodes) / idle.seconds,
            idleDatagramsPerNodePerSecond: Double(traffic.datagrams) / Double(nodes) / idle.seconds,
            idleBytesByKind: byKind, idleMessages: messages, idleNotifications: idleNotifications,
            putMilliseconds: Percentiles(puts), notifyMilliseconds: Percentiles(notifies), getMilliseconds: Percentiles(gets),
            readAfterWriteMisses: misses, notificationsMissed: missedNotifications, putAcks: Percentiles(acks))
    }
}
