import Kademlia
import Primitives
import Testing

/// Lookups driven by hand against a static "network" in which every node knows the 8
/// closest others to any target among a random sample of 40 (a sparse, imperfect view).
@Suite struct LookupTests {
    struct World {
        var ids: [NodeID]
        var views: [NodeID: [NodeID]] = [:]

        init(count: Int, seed: UInt64) {
            var rng = Xoshiro256(seed: seed)
            ids = (0..<count).map { _ in .random(using: &rng) }
            for id in ids {
                var view = Set<NodeID>()
                while view.count < 40 { view.insert(ids[Int(rng.next() % UInt64(count))]) }
                // Everyone also knows its true neighbours, as a formed table would.
                for n in ids.sorted(by: { $0.distance(to: id) < $1.distance(to: id) }).prefix(9) { view.insert(n) }
                views[id] = Array(view)
            }
        }

        func answer(_ asked: NodeID, target: NodeID) -> [Contact] {
            views[asked]!.sorted { $0.distance(to: target) < $1.distance(to: target) }.prefix(8).map { Fixtures.contact($0) }
        }

        func trueClosest(_ target: NodeID, _ n: Int, excluding: NodeID) -> [NodeID] {
            Array(ids.filter { $0 != excluding }.sorted { $0.distance(to: target) < $1.distance(to: target) }.prefix(n))
        }
    }

    @Test func convergesToTheTrueClosestWithBoundedParallelism() {
        let world = World(count: 500, seed: 1)
        var rng = Xoshiro256(seed: 2)
        for _ in 0..<20 {
            let me = world.ids[Int(rng.next() % 500)]
            let target = NodeID.random(using: &rng)
            var lookup = Lookup(target: target, k: 8, alpha: 3, seeds: world.answer(me, target: me), excluding: me)
            var rounds = 0
            while !lookup.isFinished, rounds < 100 {
                let batch = lookup.nextQueries()
                #expect(lookup.inFlight <= 8, "at most α, or k once stalled")
                for c in batch { lookup.succeeded(c.id, closer: world.answer(c.id, target: target)) }
                rounds += 1
            }
            #expect(lookup.isFinished)
            #expect(lookup.closest.map(\.id) == world.trueClosest(target, 8, excluding: me))
            #expect(lookup.hops >= 1)
        }
    }

    @Test func failedCandidatesAreLeftOutAndReplaced() {
        let world = World(count: 300, seed: 5)
        var rng = Xoshiro256(seed: 6)
        let me = world.ids[0]
        let target = NodeID.random(using: &rng)
        let dead = Set(world.trueClosest(target, 3, excluding: me))
        var lookup = Lookup(target: target, k: 8, alpha: 3, seeds: world.answer(me, target: me), excluding: me)
        while !lookup.isFinished {
            let batch = lookup.nextQueries()
            if batch.isEmpty { break }
            for c in batch {
                if dead.contains(c.id) { lookup.failed(c.id) } else { lookup.succeeded(c.id, closer: world.answer(c.id, target: target)) }
            }
        }
        #expect(lookup.isFinished)
        let alive = world.trueClosest(target, 11, excluding: me).filter { !dead.contains($0) }
        #expect(lookup.closest.map(\.id) == Array(alive.prefix(8)))
    }

    @Test func onlyAlphaRequestsAreInFlightAtFirst() {
        var rng = Xoshiro256(seed: 9)
        let seeds = (0..<20).map { Fixtures.contact(NodeID.random(using: &rng), $0) }
        var lookup = Lookup(target: .random(using: &rng), k: 20, alpha: 3, seeds: seeds, excluding: .zero)
        #expect(lookup.nextQueries().count == 3)
        #expect(lookup.nextQueries().isEmpty)
        #expect(!lookup.isFinished)
    }

    @Test func presumedAliveSeedsAreNotAsked() {
        var rng = Xoshiro256(seed: 10)
        let seeds = (0..<20).map { Fixtures.contact(NodeID.random(using: &rng), $0) }
        var lookup = Lookup(target: .random(using: &rng), k: 20, alpha: 3, seeds: seeds, excluding: .zero, presumedAlive: Set(seeds.dropFirst().map(\.id)))
        let asked = lookup.nextQueries()
        #expect(asked == [seeds[0]])
        lookup.succeeded(seeds[0].id, closer: [])
        #expect(lookup.isFinished)
    }
}
