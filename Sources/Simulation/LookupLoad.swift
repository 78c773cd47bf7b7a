import Primitives

/// Random lookups on a formed overlay, issued at a steady rate (not in one burst), judged
/// by `LookupProbe`.
public struct LookupLoad: Sendable {
    public var count = 10_000
    public var rate = 1_000.0

    public init(count: Int = 10_000, rate: Double = 1_000) {
        self.count = count
        self.rate = rate
    }

    public func run(on simulation: Simulation) -> LookupProbe.Result {
        let probe = LookupProbe(simulation)
        let previous = simulation.onEffect
        simulation.onEffect = { i, e in if !probe.observe(i, e) { previous?(i, e) } }
        let gap = Interval.seconds(1 / rate)
        let start = simulation.now
        for i in 0..<count {
            simulation.schedule(at: start + Interval(nanoseconds: gap.nanoseconds * UInt64(i))) { _ in probe.issue() }
        }
        simulation.run(until: start + Interval(nanoseconds: gap.nanoseconds * UInt64(count)))
        while probe.outstanding > 0, simulation.now.since(start) < gap * Double(count) + .seconds(60) {
            simulation.run(for: .milliseconds(100))
        }
        simulation.onEffect = previous
        return probe.result
    }
}
