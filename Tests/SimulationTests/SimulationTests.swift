import Kademlia
import Primitives
import Simulation
import Testing

/// Multi-node behaviour on virtual time. Every test states its seed; a failure replays
/// exactly.
@Suite struct SimulationTests {
    func formed(_ nodes: Int, seed: UInt64, network: NetworkModel = NetworkModel(), cache: Bool = true) -> (Simulation, Formation.Result) {
        let sim = Simulation(seed: seed, network: network, cacheVerification: cache)
        let result = Formation(nodes: nodes, rate: 100, lookups: 50).run(on: sim)
        return (sim, result)
    }

    @Test func twoHundredNodesFormAndEveryLookupFindsTheTrueClosest() {
        let (sim, r) = formed(200, seed: 1)
        #expect(r.stableAfter != nil)
        #expect(r.lookups.succeeded == r.lookups.issued && r.lookups.issued == 50)
        #expect(Oracle(sim).neighbourhoodCompleteness(sim).complete == 200)
    }

    @Test func theSameSeedReplaysTheSameRun() {
        let a = formed(100, seed: 42).1
        let b = formed(100, seed: 42).1
        #expect(a == b)
        let c = formed(100, seed: 43).1
        #expect(a.bytes != c.bytes)
    }

    /// Puts and gets over the real codec and real signature checks.
    @Test func everyGetRightAfterAPutFindsTheValue() {
        let (sim, _) = formed(80, seed: 7, cache: false)
        sim.encodeOnWire = true
        let consistency = Consistency(nodes: 80, trials: 20)
        _ = consistency  // the scenario builds its own simulation; here we drive one by hand
        var got: [RequestID: [Record]] = [:]
        var acked: [RequestID: Int] = [:]
        sim.onEffect = { _, e in
            if case .completed(let r, .put(let n, _, _, _)) = e { acked[r] = n }
            if case .completed(let r, .get(let records, _)) = e { got[r] = records }
        }
        for trial in 1...20 {
            let writer = sim.randomIndex(below: 80), reader = (writer + 1 + sim.randomIndex(below: 79)) % 80
            let key = RecordKey.make(network: sim.networkID, namespace: "t", name: "\(trial)")
            let record = sim.node(writer).identity.record(key: key, sequence: 1, ttl: 600, payload: [UInt8(trial)])
            sim.command(writer, .put(RequestID(UInt64(trial)), record))
            sim.run(for: .seconds(3))
            #expect(acked[RequestID(UInt64(trial))] == sim.configuration.storeReplicas, "the closest storeReplicas acknowledge")
            sim.command(reader, .get(RequestID(UInt64(1000 + trial)), key))
            sim.run(for: .seconds(3))
            #expect(got[RequestID(UInt64(1000 + trial))]?.map(\.payload) == [[UInt8(trial)]])
        }
    }

    @Test func lookupsStillSucceedWithTwoPercentLoss() {
        var network = NetworkModel()
        network.loss = 0.02
        let sim = Simulation(seed: 3, network: network)
        var formation = Formation(nodes: 100, rate: 100, lookups: 0)
        formation.giveUpAfter = .seconds(5)
        _ = formation.run(on: sim)
        sim.run(for: .minutes(2))
        let result = LookupLoad(count: 100, rate: 20).run(on: sim)
        #expect(result.successRate >= 0.95)
    }

    @Test func aPartitionHidesValuesUntilItHeals() {
        let (sim, _) = formed(60, seed: 5)
        var got: [RequestID: [Record]] = [:]
        sim.onEffect = { _, e in if case .completed(let r, .get(let records, _)) = e { got[r] = records } }
        // Split into halves by index; the owner (node 0) is on side 0.
        for i in 0..<60 { sim.partition[i] = i < 30 ? 0 : 1 }
        let key = RecordKey.make(network: sim.networkID, namespace: "t", name: "split")
        sim.command(0, .put(RequestID(1), sim.node(0).identity.record(key: key, sequence: 1, ttl: 3_600, payload: [1])))
        sim.run(for: .seconds(10))
        sim.command(45, .get(RequestID(2), key))
        sim.command(15, .get(RequestID(3), key))
        sim.run(for: .seconds(10))
        #expect(got[RequestID(2)] == [], "the other side cannot see it")
        #expect(got[RequestID(3)]?.count == 1, "this side can")
        // Heal; the owner's next republish (or the put that ran on this side) reaches both.
        sim.partition = [:]
        sim.command(0, .put(RequestID(4), sim.node(0).identity.record(key: key, sequence: 2, ttl: 3_600, payload: [2])))
        sim.run(for: .seconds(10))
        sim.command(45, .get(RequestID(5), key))
        sim.run(for: .seconds(10))
        #expect(got[RequestID(5)]?.map(\.payload) == [[2]])
    }

    @Test func aNodeRestartedWithItsKeyRejoinsUnderTheSameID() {
        let (sim, _) = formed(50, seed: 9)
        let identity = sim.node(7).identity
        sim.kill(7)
        sim.run(for: .seconds(30))
        let restarted = sim.addNode(identity: identity)
        sim.command(restarted, .bootstrap(RequestID(1), [Simulation.endpoint(of: 3)]))
        sim.run(for: .seconds(20))
        #expect(sim.node(restarted).id == identity.id)
        let oracle = Oracle(sim)
        #expect(oracle.holdsTrueNeighbourhood(sim, restarted))
        let knowers = sim.liveIndices.filter { sim.node($0).table.contains(identity.id) }.count
        #expect(knowers >= 20)
    }

    @Test func aSmallChurnRunKeepsLookupsWorking() {
        var churn = Churn(nodes: 100, medianSession: .minutes(5))
        churn.warmup = .minutes(1)
        churn.duration = .minutes(1)
        churn.lookupRate = 2
        let r = churn.run(seed: 11)
        #expect(r.departures > 0)
        #expect(r.lookups.successRate >= 0.9)
    }

    @Test func theOracleFindsTheTrueClosest() {
        let (sim, _) = formed(120, seed: 13)
        let oracle = Oracle(sim)
        var rng = Xoshiro256(seed: 1)
        for _ in 0..<20 {
            let target = NodeID.random(using: &rng)
            let brute = sim.liveIndices.map { sim.node($0).id }.sorted { $0.distance(to: target) < $1.distance(to: target) }
            #expect(oracle.closest(to: target, count: 20) == Array(brute.prefix(20)))
        }
    }
}

/// The Sybil flood of RELIABILITY.md, small enough for a unit test (seed 1 replays it).
@Suite struct SybilFloodTests {
    @Test func oneHostWithManyIdsGetsAtMostTwoPlacesPerBucketAndHonestGetsStillSucceed() {
        var flood = SybilFlood(honest: 120, sybils: 40, trials: 100)
        flood.settle = .seconds(30)
        let r = flood.run(seed: 1)
        #expect(r.maxSybilsPerBucket <= 2)
        #expect(r.maxSybilsPerBucket >= 1, "the Sybils did reach honest tables")
        #expect(r.refusedBySubnetLimit > 0)
        #expect(r.successRate >= 0.99, "\(r)")
    }

    @Test func withoutTheSubnetLimitTheSameFloodTakesMorePlaces() {
        var flood = SybilFlood(honest: 120, sybils: 40, trials: 0, diversity: false)
        flood.settle = .seconds(30)
        let r = flood.run(seed: 1)
        #expect(r.maxSybilsPerBucket > 2)
        #expect(r.refusedBySubnetLimit == 0)
    }
}
