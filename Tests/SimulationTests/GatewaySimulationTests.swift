import DNSSD
import Kademlia
import Simulation
import Testing

/// Whole gateways on virtual time: the real `GatewayMachine`s over the real DHT nodes
/// (`GatewayNetwork`); `z2z-bench gateways` runs the full size (BENCHMARKS.md, "Whole
/// gateways"). Every test states its seed.
@Suite struct GatewaySimulationTests {
    /// 30 islands of 5 services (CI's size of the benchmark): formation from cold, a split
    /// into halves for 60 s with services changing on both sides, the heal, then 3 islands
    /// leaving (gracefully and killed) and 3 joining. Every island's imports equal the truth
    /// within 15 s of the heal and of the churn, but for the killed island's services: nobody
    /// removed its values, so they stay until they expire (the next test).
    @Test func thirtyIslandsFormHealAndChurnToTheTruth() {
        var scenario = Self.ciScenario
        scenario.lingerLimit = .zero
        let r = scenario.run(seed: 7)
        #expect(r.islandsWithOneLeader == 30)
        #expect(r.formation.secondsUntilWhole != nil, "formation: \(r.formation.differences)")
        #expect(r.steady.islandsWhole == 30)
        #expect(r.split.islandsWhole < 30, "services changed while apart are not seen across the cut")
        #expect((r.heal.secondsUntilWhole ?? 99) <= 15, "heal: \(r.heal.differences)")
        #expect(r.heal.zombieImports == 0 && r.heal.staleImports == 0)
        #expect(r.killed == 1 && r.leftGracefully == 2 && r.joined == 3)
        #expect((r.churn.secondsUntilWhole ?? 99) <= 15, "churn: \(r.churn.differences)")
        #expect(r.churn.zombieImports == 0, "gracefully departed islands' services are gone everywhere")
        #expect(r.churn.lingeringImports > 0, "the killed island's services are still imported")
    }

    /// A killed island's services leave every other island's link once their values expire
    /// (here a lifetime of 60 s instead of 300 s), and nothing else is left behind.
    @Test func aKilledIslandsServicesGoWhenTheirValuesExpire() {
        var scenario = GatewayScenario(islands: 10, services: 3)
        scenario.types = 4
        scenario.churn = 0.2
        scenario.network.recordTTL = 60
        scenario.lingerLimit = .seconds(120)
        let r = scenario.run(seed: 2)
        #expect(r.killed == 1 && r.leftGracefully == 1)
        #expect(r.churn.lingeringImports > 0)
        #expect((r.lingerGone.secondsUntilWhole ?? 999) <= 90, "\(r.lingerGone.differences)")
        #expect(r.lingerGone.zombieImports == 0 && r.lingerGone.lingeringImports == 0)
    }

    /// The same seed replays the same run, byte for byte.
    @Test func theSameSeedGivesTheSameFigures() {
        var scenario = Self.ciScenario
        scenario.islands = 12
        scenario.lingerLimit = .zero
        #expect(scenario.run(seed: 3) == scenario.run(seed: 3))
    }

    static var ciScenario: GatewayScenario {
        var scenario = GatewayScenario(islands: 30, services: 5)
        scenario.types = 8
        return scenario
    }
}
