import Kademlia
import Primitives
import Testing

@Suite struct RoutingTableTests {
    let local = Fixtures.identity(1).id
    let quiet = Interval.seconds(60)

    @Test func theBucketHoldingTheLocalIDSplitsWhenFull() {
        var table = RoutingTable(localID: local, k: 4)
        // Four far contacts (first bit differs) fill the single bucket...
        for i in 0..<4 { _ = table.observe(Fixtures.contact(Fixtures.id(near: local, leadingZeros: 0, seed: UInt64(i))), now: .zero, recentlySeen: quiet) }
        #expect(table.buckets.count == 1)
        // ...and a close one splits it: the far four stay in bucket 0, the close one moves on.
        let close = Fixtures.id(near: local, leadingZeros: 5, seed: 100)
        let result20 = table.observe(Fixtures.contact(close), now: .zero, recentlySeen: quiet)
        #expect(result20 == .inserted(rank: 0))
        #expect(table.buckets.count == 2)
        #expect(table.buckets[0].entries.count == 4)
        #expect(table.buckets[1].entries.map(\.contact.id) == [close])
        #expect(table.count == 5)
    }

    @Test func aFullFarBucketDoesNotSplit() {
        var table = RoutingTable(localID: local, k: 4)
        for i in 0..<4 { _ = table.observe(Fixtures.contact(Fixtures.id(near: local, leadingZeros: 6, seed: UInt64(i))), now: .zero, recentlySeen: quiet) }
        for i in 0..<4 { _ = table.observe(Fixtures.contact(Fixtures.id(near: local, leadingZeros: 0, seed: UInt64(10 + i))), now: .zero, recentlySeen: quiet) }
        let buckets = table.buckets.count
        let newcomer = Fixtures.contact(Fixtures.id(near: local, leadingZeros: 0, seed: 99))
        // The oldest far entry was seen recently: the newcomer is dropped, no probe.
        let result21 = table.observe(newcomer, now: Fixtures.at(1), recentlySeen: quiet)
        #expect(result21 == .dropped)
        #expect(table.buckets.count == buckets)
        #expect(!table.contains(newcomer.id))
    }

    @Test func evictionOnlyAfterTheLeastRecentlySeenEntryFailsItsLivenessCheck() {
        var table = RoutingTable(localID: local, k: 4)
        for i in 0..<4 { _ = table.observe(Fixtures.contact(Fixtures.id(near: local, leadingZeros: 6, seed: UInt64(i))), now: .zero, recentlySeen: quiet) }
        let far = (0..<4).map { Fixtures.contact(Fixtures.id(near: local, leadingZeros: 0, seed: UInt64(10 + $0)), $0) }
        for (i, c) in far.enumerated() { _ = table.observe(c, now: Fixtures.at(Double(i)), recentlySeen: quiet) }
        let newcomer = Fixtures.contact(Fixtures.id(near: local, leadingZeros: 0, seed: 99), 9)

        // Long after: the bucket asks for a probe of its least-recently-seen entry.
        let result22 = table.observe(newcomer, now: Fixtures.at(100), recentlySeen: quiet)
        #expect(result22 == .probe(far[0]))
        #expect(table.contains(far[0].id) && !table.contains(newcomer.id), "nothing is evicted before the probe fails")
        // A second newcomer while the probe runs is dropped.
        let other = Fixtures.contact(Fixtures.id(near: local, leadingZeros: 0, seed: 98), 8)
        let result23 = table.observe(other, now: Fixtures.at(100), recentlySeen: quiet)
        #expect(result23 == .dropped)

        // The probe is answered: the old entry stays (now most recently seen), the newcomer goes.
        table.probeSucceeded(far[0].id, now: Fixtures.at(101))
        #expect(table.contains(far[0].id) && !table.contains(newcomer.id))
        #expect(table.buckets[0].entries.last?.contact == far[0])

        // Next time the probe (of far[1], now least recently seen) fails: evicted, newcomer in.
        let result24 = table.observe(newcomer, now: Fixtures.at(200), recentlySeen: quiet)
        #expect(result24 == .probe(far[1]))
        let result25 = table.probeFailed(far[1].id, now: Fixtures.at(201))
        #expect(result25 == newcomer)
        #expect(!table.contains(far[1].id) && table.contains(newcomer.id))
    }

    @Test func aFullBucketStillAdmitsOneOfTheKClosest() {
        var table = RoutingTable(localID: local, k: 4)
        // Bucket 3 fills with four contacts, then buckets beyond it hold nothing: a fifth
        // contact at depth 3 that is closer than some of the four is among the 4 closest.
        let ids = (0..<4).map { Fixtures.id(near: local, leadingZeros: 3, seed: UInt64($0)) }
        for id in ids { _ = table.observe(Fixtures.contact(id), now: .zero, recentlySeen: quiet) }
        _ = table.observe(Fixtures.contact(Fixtures.id(near: local, leadingZeros: 0, seed: 50)), now: .zero, recentlySeen: quiet)
        let closer = Fixtures.id(near: local, leadingZeros: 3, seed: 77)
        let farthest = ids.max { local.distance(to: $0) < local.distance(to: $1) }!
        guard local.distance(to: closer) < local.distance(to: farthest) else { return }
        if case .inserted(let rank) = table.observe(Fixtures.contact(closer), now: .zero, recentlySeen: quiet) {
            #expect(rank < 4)
        } else {
            Issue.record("one of the k closest must be admitted")
        }
        #expect(table.contains(closer))
        #expect(table.closest(to: local, count: 4).contains { $0.id == closer })
    }

    @Test func repeatedTimeoutsRemoveAnEntry() {
        var table = RoutingTable(localID: local, k: 20)
        let c = Fixtures.contact(Fixtures.id(near: local, leadingZeros: 2, seed: 1))
        _ = table.observe(c, now: .zero, recentlySeen: quiet)
        let result26 = table.recordFailure(c.id, maxFailures: 2)
        #expect(!result26)
        _ = table.observe(c, now: Fixtures.at(1), recentlySeen: quiet)  // an answer resets the count
        let result27 = table.recordFailure(c.id, maxFailures: 2)
        #expect(!result27)
        let result28 = table.recordFailure(c.id, maxFailures: 2)
        #expect(result28)
        #expect(!table.contains(c.id))
    }

    @Test func closestAreSortedByDistanceToTheTarget() {
        var table = RoutingTable(localID: local, k: 20)
        var rng = Xoshiro256(seed: 3)
        for i in 0..<200 { _ = table.observe(Fixtures.contact(.random(using: &rng), i), now: .zero, recentlySeen: quiet) }
        let target = NodeID.random(using: &rng)
        let closest = table.closest(to: target, count: 10)
        #expect(closest.count == 10)
        let all = table.allContacts.map(\.id).sorted { $0.distance(to: target) < $1.distance(to: target) }
        #expect(closest.map(\.id) == Array(all.prefix(10)))
    }
}
