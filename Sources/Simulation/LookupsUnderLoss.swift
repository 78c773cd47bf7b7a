import Primitives

/// Lookup success with datagrams lost at random: `nodes` nodes form an overlay on a clean
/// network, then every datagram is lost with probability `loss` (both directions, each
/// independently); after `warmup` (round-trip estimates and routing tables adapt), random
/// lookups judged by `LookupProbe`.
public struct LookupsUnderLoss: Sendable {
    public var nodes = 1_000
    public var loss = 0.05
    public var warmup: Interval = .minutes(1)
    public var lookups = 2_000
    public var rate = 20.0
    /// One-way latency of each link, in milliseconds (`NetworkModel`).
    public var linkLatency: ClosedRange<Double> = 10...100

    public init(nodes: Int = 1_000, loss: Double) {
        self.nodes = nodes
        self.loss = loss
    }

    public struct Result: Hashable, Sendable, Codable {
        public var nodes: Int
        public var loss: Double
        public var lookups: LookupProbe.Result
        public var successRate: Double
        public var datagramsLost: Int
    }

    public func run(seed: UInt64) -> Result {
        let simulation = Simulation(seed: seed, network: NetworkModel(linkLatency: linkLatency))
        _ = Formation(nodes: nodes, rate: 1_000, lookups: 0).run(on: simulation)
        simulation.network.loss = loss
        simulation.run(for: warmup)
        let lostBefore = simulation.traffic.lost
        let result = LookupLoad(count: lookups, rate: rate).run(on: simulation)
        return Result(nodes: nodes, loss: loss, lookups: result, successRate: result.successRate,
                      datagramsLost: simulation.traffic.lost - lostBefore)
    }
}
