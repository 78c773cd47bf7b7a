import Simulation
import Testing

/// Islands on virtual time: whole gateways (the real machines, election included, over the
/// real DHT nodes; small sizes, `z2z-bench islands` runs the full ones). Every test states
/// its seed.
@Suite struct IslandSimulationTests {
    @Test func islandsBootingAtRandomElectOneLeaderEachJoinOneOverlayAndSeeEveryExport() {
        var scenario = IslandScenario(islands: 40)
        scenario.kills = 8
        scenario.changesWhileApart = 8
        let r = scenario.run(seed: 11)
        #expect(r.islandsWithOneLeader == 40, "exactly one leader per island")
        #expect(r.overlays == 1, "every leader in one overlay")
        #expect(r.leadersInStructure == 40, "40 leaders are past the structure threshold")
        #expect(r.viewsEqualTruth == 40, "every island's export is seen by every island")
        #expect(r.electionSeconds.p50 <= 3.5, "typically a listen window (3 s); longer when a better gateway boots later")

        #expect(r.failovers == 8)
        #expect(r.failoverSeconds.max <= 2.3, "a new leader within 3 heartbeats (0.75 s each, z2zd's) of the kill")
        #expect(r.twoLeaderSamples == 0, "never two leaders of one island after the old lease ends")
        #expect(r.viewsCompleteAfterFailovers != nil)

        #expect((r.viewsCompleteAfterHeal ?? 99) <= 30, "views equal the truth within 30 s of the heal")
        #expect(r.healMerges > 0)
    }

    @Test func twoOverlaysFormedApartMergeThroughOneLink() {
        var merge = OverlayMerge(nodes: 100, lookups: 50)
        merge.rate = 100
        merge.settle = .seconds(10)
        merge.giveUpAfter = .seconds(30)
        merge.afterFull = .seconds(1)
        let r = merge.run(seed: 5)
        #expect(r.overlaysBefore == 2)
        #expect(r.overlaysAfter == 1, "one overlay id survives")
        #expect((r.seconds99 ?? 99) <= 10, "99% of cross-overlay gets succeed within 10 s")
        #expect(r.seconds100 != nil, "then all of them")
        #expect(r.bytesTo100 > 0)
    }
}
