import Kademlia
import Primitives

/// Issues random lookups in a simulation and judges each against the oracle: a lookup
/// succeeds when the closest node it returns is the closest live node to the target
/// (at the lookup's start or at its end, so a node joining mid-lookup does not count
/// against it).
public final class LookupProbe {
    public struct Result: Hashable, Sendable, Codable {
        public var issued = 0
        public var completed = 0
        public var succeeded = 0
        public var hops: Percentiles = Percentiles([])
        public var latencyMilliseconds: Percentiles = Percentiles([])
        public var successRate: Double { issued == 0 ? 0 : Double(succeeded) / Double(issued) }
    }

    private struct Open { var target: NodeID; var expected: NodeID? }

    private let simulation: Simulation
    private var open: [UInt64: Open] = [:]
    private var nextRequest: UInt64
    private var hops: [Double] = []
    private var latencies: [Double] = []
    private var counts = Result()
    private var cachedOracle: (version: Int, oracle: Oracle)?

    public var result: Result {
        var r = counts
        r.hops = Percentiles(hops)
        r.latencyMilliseconds = Percentiles(latencies)
        return r
    }

    private var oracle: Oracle {
        if let c = cachedOracle, c.version == simulation.membershipVersion { return c.oracle }
        let o = Oracle(simulation)
        cachedOracle = (simulation.membershipVersion, o)
        return o
    }

    /// Request ids from `requestBase` up are this probe's.
    public init(_ simulation: Simulation, requestBase: UInt64 = 1 << 40) {
        self.simulation = simulation
        self.nextRequest = requestBase
    }

    /// One lookup for a random target from a random live node, now.
    public func issue() {
        let live = simulation.liveIndices
        guard !live.isEmpty else { return }
        issue(from: live[simulation.randomIndex(below: live.count)])
    }

    public func issue(from index: Int) {
        var bits = SplitMix64(state: UInt64(simulation.random() * Double(UInt64.max)))
        let target = NodeID.random(using: &bits)
        let expected = oracle.closest(to: target, count: 1, excluding: simulation.node(index).id).first
        nextRequest += 1
        open[nextRequest] = Open(target: target, expected: expected)
        counts.issued += 1
        simulation.command(index, .lookup(RequestID(nextRequest), target))
    }

    /// Feed every effect here; returns true when it was this probe's.
    @discardableResult
    public func observe(_ index: Int, _ effect: Effect) -> Bool {
        guard case .completed(let request, .lookup(let report)) = effect, let o = open.removeValue(forKey: request.rawValue) else { return false }
        counts.completed += 1
        let found = report.closest.first?.id
        let nowExpected = oracle.closest(to: o.target, count: 1, excluding: simulation.node(index).id).first
        if found != nil, found == o.expected || found == nowExpected { counts.succeeded += 1 }
        hops.append(Double(report.hops))
        latencies.append(report.duration.seconds * 1000)
        return true
    }

    public var outstanding: Int { open.count }
}
