import Kademlia
import Primitives

/// Direct exchange against the DHT for an overlay of `nodes` nodes: the cost that decides
/// `Configuration.structureThreshold`. The overlay forms (one join every 100 ms), every
/// node subscribes to one key and settles; then one put, and one get from another node.
/// Reported: bytes and latency of each, the time until every subscriber heard of the put,
/// and the bytes of formation and of idle maintenance.
public struct ThresholdMeasurement: Sendable {
    public var nodes: Int
    /// True: direct exchange (threshold above `nodes`); false: the DHT from the first contact.
    public var direct: Bool

    public init(nodes: Int, direct: Bool) {
        self.nodes = nodes
        self.direct = direct
    }

    public struct Result: Hashable, Sendable, Codable {
        public var nodes = 0
        public var direct = false
        public var stage = ""
        public var formationBytes = 0
        public var putBytes = 0
        public var putMilliseconds = 0.0
        /// From the put until the last subscriber was notified.
        public var notifyAllMilliseconds = 0.0
        public var notified = 0
        public var getBytes = 0
        public var getMilliseconds = 0.0
        /// Idle maintenance, bytes per node per minute (10 minutes measured).
        public var idleBytesPerNodeMinute = 0.0
    }

    public func run(seed: UInt64) -> Result {
        let sim = Simulation(seed: seed) { $0.structureThreshold = direct ? Int.max : 2 }
        var result = Result()
        result.nodes = nodes
        result.direct = direct
        for i in 0..<nodes {
            sim.schedule(at: .zero + .milliseconds(100 * Double(i))) { sim in
                sim.join(bootstrap: i == 0 ? [] : [sim.randomIndex(below: i)])
            }
        }
        let key = RecordKey.make(network: sim.networkID, namespace: "type", name: "_ipp._tcp")
        sim.run(until: .zero + .milliseconds(100 * Double(nodes)) + .seconds(30))
        for i in 0..<nodes { sim.command(i, .subscribe(RequestID(1), key)) }
        sim.run(for: .seconds(10))
        result.formationBytes = sim.traffic.bytes
        result.stage = sim.node(0).stage.rawValue

        var completed: [RequestID: Instant] = [:]
        var notifiedAt: [Int: Instant] = [:]
        sim.onEffect = { node, effect in
            switch effect {
            case .completed(let r, _): completed[r] = sim.now
            case .notification: notifiedAt[node] = sim.now
            default: break
            }
        }
        let record = sim.node(0).identity.record(key: key, sequence: 1, ttl: 3_600, payload: Array(repeating: 7, count: 100))
        var start = sim.now
        var bytes = sim.traffic.bytes
        sim.command(0, .put(RequestID(2), record))
        sim.run(for: .seconds(5))
        result.putBytes = sim.traffic.bytes - bytes
        result.putMilliseconds = completed[RequestID(2)].map { $0.since(start).seconds * 1000 } ?? -1
        result.notified = notifiedAt.count
        result.notifyAllMilliseconds = (notifiedAt.values.max().map { $0.since(start).seconds * 1000 }) ?? -1

        start = sim.now
        bytes = sim.traffic.bytes
        sim.command(nodes - 1, .get(RequestID(3), key))
        sim.run(for: .seconds(5))
        result.getBytes = sim.traffic.bytes - bytes
        result.getMilliseconds = completed[RequestID(3)].map { $0.since(start).seconds * 1000 } ?? -1

        bytes = sim.traffic.bytes
        sim.run(for: .minutes(10))
        result.idleBytesPerNodeMinute = Double(sim.traffic.bytes - bytes) / Double(nodes) / 10
        sim.onEffect = nil
        return result
    }
}
