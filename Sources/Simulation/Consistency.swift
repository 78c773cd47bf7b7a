
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
        let outcome = WriteReadTrials(among: simulation.liveIndices, trials: trials, concurrent: concurrent, keyPrefix: "raw")
            .run(on: simulation)
        return Result(
            nodes: nodes, neighbourhoodsCompleteAfter: formation.neighbourhoodsCompleteAfter,
            completeness: formation.completeness, trials: outcome.finished, putsWithoutAck: outcome.putsWithoutAck,
            misses: outcome.misses, acks: Percentiles(outcome.acks), putMilliseconds: Percentiles(outcome.putMilliseconds),
            getMilliseconds: Percentiles(outcome.getMilliseconds))
    }
}
