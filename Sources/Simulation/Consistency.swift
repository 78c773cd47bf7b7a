import Kademlia

/// Convergence and read-after-write consistency: `nodes` join at 1,000/s; the time until
/// every node holds its true k closest is taken from the formation; then `trials` times a
/// random node puts a fresh record and, the moment the put reports its acks, another
/// random node gets the key. A get that does not return the record is a miss.
public struct Consistency: Sendable {
    public var nodes = 1_000
    public var trials = 1_000
    public var concurrent = 10

    public init(nodes: Int = 1_000, trials: Int = 1_000) {
        self.nodes = nodes
        self.trials = trials
    }

    public struct Result: Hashable, Sendable, Codable {
        public var nodes: Int
        public var neighbourhoodsCompleteAfter: Double?
        public var completeness: [[Double]]
        public var trials: Int
        public var putsWithoutAck: Int
        public var misses: Int
        public var acks: Percentiles
        public var putMilliseconds: Percentiles
        public var getMilliseconds: Percentiles
    }

    public func run(seed: UInt64) -> Result {
        let simulation = Simulation(seed: seed)
        let formation = Formation(nodes: nodes, rate: 1_000, lookups: 100).run(on: simulation)
        var started = 0, finished = 0, misses = 0, noAck = 0
        var acks: [Double] = [], putTimes: [Double] = [], getTimes: [Double] = []
        var expected: [UInt64: (key: RecordKey, owner: NodeID, sequence: UInt64)] = [:]
        let live = simulation.liveIndices

        func startTrial() {
            guard started < trials else { return }
            started += 1
            let trial = UInt64(started)
            let writer = live[simulation.randomIndex(below: live.count)]
            let identity = simulation.node(writer).identity
            let key = RecordKey.make(network: simulation.networkID, namespace: "bench", name: "raw-\(trial)")
            let record = identity.record(key: key, sequence: trial, ttl: 3_600, payload: Array("value \(trial)".utf8))
            expected[trial] = (key, identity.id, trial)
            simulation.command(writer, .put(RequestID(trial), record))
        }
        simulation.onEffect = { index, effect in
            guard case .completed(let request, let outcome) = effect, let want = expected[request.rawValue] else { return }
            switch outcome {
            case .put(let n, _, _, let report):
                acks.append(Double(n))
                putTimes.append(report.duration.seconds * 1000)
                if n == 0 { noAck += 1 }
                var reader = live[simulation.randomIndex(below: live.count)]
                while reader == index { reader = live[simulation.randomIndex(below: live.count)] }
                simulation.command(reader, .get(request, want.key))
            case .get(let records, let report):
                getTimes.append(report.duration.seconds * 1000)
                if !records.contains(where: { $0.owner == want.owner && $0.sequence == want.sequence }) { misses += 1 }
                expected[request.rawValue] = nil
                finished += 1
                startTrial()
            default:
                break
            }
        }
        for _ in 0..<concurrent { startTrial() }
        let begin = simulation.now
        while finished < trials, simulation.now.since(begin) < .minutes(30) { simulation.run(for: .seconds(1)) }
        simulation.onEffect = nil
        return Result(
            nodes: nodes, neighbourhoodsCompleteAfter: formation.neighbourhoodsCompleteAfter,
            completeness: formation.completeness, trials: finished, putsWithoutAck: noAck, misses: misses + (trials - finished),
            acks: Percentiles(acks), putMilliseconds: Percentiles(putTimes), getMilliseconds: Percentiles(getTimes))
    }
}
