import Kademlia
import Simulation
import Testing

/// Fault scenarios on virtual time, small versions of `z2z-bench faults` (RELIABILITY.md).
/// Every test states its seed.
@Suite struct FaultSimulationTests {
    /// Past the structure threshold (a DHT): random half partitions, a new one every 5 s,
    /// with exports changed and withdrawn meanwhile; after the heal every view is whole
    /// again within 30 s, withdrawn exports included.
    @Test func randomHalfPartitionsCycledEveryFiveSecondsHealToTheTruthWithinThirtySeconds() {
        var scenario = PartitionCycles(islands: 30)
        scenario.duration = .seconds(30)
        let r = scenario.run(seed: 4)
        #expect(r.viewsEqualBeforeCuts == 30)
        #expect(r.cuts == 6)
        #expect(r.withdrawals > 0, "some exports were withdrawn while cut")
        #expect((r.withdrawalsGoneAfterHeal ?? 99) <= 30, "withdrawals gone everywhere: \(r.differences)")
        #expect((r.viewsCompleteAfterHeal ?? 99) <= 30, "views equal the truth: \(r.differences)")
        #expect(r.viewsEqualAtLimit == 30)
    }
}
