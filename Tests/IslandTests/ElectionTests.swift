@testable import Island
import Primitives
import Testing

/// Leader election on virtual time: one link, heartbeats every second, three missed replace a leader.
struct ElectionTests {
    @Test func loneGatewayLeadsAfterItsListenWindowWithANewIslandID() {
        var link = ElectionHarness()
        link.add(priority: 10)
        link.run(for: .seconds(2.9))
        #expect(link.gateways[0].role == .candidate) // still listening for an incumbent
        link.run(for: .seconds(0.2))
        #expect(link.gateways[0].role == .leader)
        #expect(link.gateways[0].island != nil)
    }

    @Test func gatewaysBootingTogetherAgreeOnTheHighestPriorityAndOneIslandID() {
        var link = ElectionHarness()
        for priority: UInt8 in [5, 9, 7] { link.add(priority: priority) }
        link.run(for: .seconds(5))
        #expect(link.leaders == [1])
        #expect(link.gateways.allSatisfy { $0.leader == link.gateways[1].id })
        #expect(Set(link.gateways.map(\.island)).count == 1)
        #expect(link.gateways[0].role == .follower && link.gateways[2].role == .follower)
    }

    @Test func equalPrioritiesAreBrokenByNodeIDDeterministically() {
        var link = ElectionHarness()
        for _ in 0..<3 { link.add(priority: 5) }
        link.run(for: .seconds(5))
        let highest = link.gateways.indices.max { link.gateways[$0].id < link.gateways[$1].id }
        #expect(link.leaders == [highest!])
    }

    @Test func incumbentKeepsTheRoleWhenAHigherPriorityGatewayJoins() {
        var link = ElectionHarness()
        link.add(priority: 1)
        link.run(for: .seconds(5))
        let newcomer = link.add(priority: 200)
        link.run(for: .seconds(20))
        #expect(link.leaders == [0])
        #expect(link.gateways[newcomer].role == .follower)
        #expect(link.gateways[newcomer].island == link.gateways[0].island)
        #expect(link.gateways[newcomer].transitions == 1) // candidate → follower, never leader
    }

    @Test func followerReplacesAStoppedLeaderAfterThreeMissedHeartbeatsAndNotBefore() {
        var link = ElectionHarness()
        link.add(priority: 9)
        link.add(priority: 5)
        link.run(for: .seconds(5))
        #expect(link.leaders == [0])
        let island = link.gateways[0].island
        let lastHeard = link.gateways[1].peers[link.gateways[0].id]?.lastHeard ?? .zero
        link.kill(0)
        link.run(for: .seconds(2.9))
        #expect(link.gateways[1].role == .follower) // lease not over yet
        link.run(for: .seconds(1.2))
        #expect(link.leaders == [1])
        let promoted = link.history.last { $0.gateway == 1 && $0.role == .leader }
        let elapsed = promoted.map { $0.at.since(lastHeard) } ?? .seconds(99)
        #expect(elapsed >= .seconds(3) && elapsed <= .seconds(3.01))
        #expect(link.gateways[1].island == island) // the island id survives the change
        #expect(link.gateways[1].term > link.gateways[0].term)
    }

    @Test func restartedGatewayFollowsTheCurrentLeaderInsteadOfContesting() {
        var link = ElectionHarness()
        link.add(priority: 200)
        link.add(priority: 5)
        link.run(for: .seconds(5))
        link.kill(0)
        link.run(for: .seconds(5))
        #expect(link.leaders == [1])
        link.restart(0) // higher priority, and it led before
        link.run(for: .seconds(20))
        #expect(link.leaders == [1])
        #expect(link.gateways[0].role == .follower)
        #expect(link.gateways[0].island == link.gateways[1].island)
    }

    /// A gateway that restarts alone knows no term: it claims above its floor (the daemon's
    /// wall clock), hence above the term of a predecessor that started before it.
    @Test func aLoneClaimIsAboveTheTermFloor() {
        var configuration = Election.Configuration()
        configuration.termFloor = 1_764_100_000
        var election = Election(id: ElectionHarness.nodeID(0), network: ElectionHarness.network, priority: 1, port: 7400,
                                island: nil, configuration: configuration, seed: 1)
        _ = election.handle(.tick, now: .zero)
        _ = election.handle(.tick, now: .zero + .seconds(3))
        #expect(election.role == .leader)
        #expect(election.term == 1_764_100_001)
    }

    @Test func restartedLoneGatewayKeepsItsIslandID() {
        var link = ElectionHarness()
        let remembered = IslandID(rawValue: 0xfeed)
        link.add(priority: 1, island: remembered)
        link.run(for: .seconds(5))
        #expect(link.gateways[0].role == .leader)
        #expect(link.gateways[0].island == remembered)
    }

    @Test func twoLeadersThatMeetLeaveOneByTermThenPriority() {
        var link = ElectionHarness()
        link.add(priority: 9)
        link.add(priority: 5)
        link.cut = [[0, 1]]
        link.run(for: .seconds(5))
        #expect(link.leaders == [0, 1]) // a cut link is two islands
        link.cut = []
        link.run(for: .seconds(3))
        #expect(link.leaders.count == 1)
        let leader = link.leaders[0]
        #expect(link.gateways.allSatisfy { $0.leader == link.gateways[leader].id })
        #expect(Set(link.gateways.map(\.island)).count == 1)
    }

    @Test func neverTwoLeadersOnAHealthyLinkAcrossManyRandomBootOrders() {
        for seed in 1...40 {
            var rng = Xoshiro256(seed: UInt64(seed))
            var link = ElectionHarness()
            let count = Int.random(in: 2...5, using: &rng)
            for _ in 0..<count {
                link.add(priority: UInt8.random(in: 0...3, using: &rng))
                link.run(for: .seconds(Double.random(in: 0...4, using: &rng)))
            }
            link.run(for: .seconds(10))
            #expect(link.leaders.count == 1, "seed \(seed)")
            #expect(Set(link.gateways.map(\.island)).count == 1, "seed \(seed)")
            // Once settled, killing the leader yields exactly one new leader within 3 heartbeats + 1.
            let old = link.leaders[0]
            link.kill(old)
            link.run(for: .seconds(4.1))
            #expect(link.leaders.count == 1 && link.leaders[0] != old, "seed \(seed)")
        }
    }
}

/// The island's stage from the election and the overlay (`Stage.of`), the one place it is decided.
struct StageTests {
    @Test func bootstrappingUntilALeaderThenTheOverlaysStage() {
        #expect(Stage.of(leaderElected: false, leading: false, overlay: .structure) == .bootstrapping)
        #expect(Stage.of(leaderElected: true, leading: true, overlay: .bootstrapping) == .interconnection,
                "a leader whose overlay knows nobody is looking for other leaders")
        #expect(Stage.of(leaderElected: true, leading: false, overlay: .bootstrapping) == .bootstrapping)
        for stage in [Stage.interconnection, .structure, .merging] {
            #expect(Stage.of(leaderElected: true, leading: true, overlay: stage) == stage)
            #expect(Stage.of(leaderElected: true, leading: false, overlay: stage) == stage)
        }
    }
}
