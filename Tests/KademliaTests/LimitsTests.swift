import Kademlia
import Primitives
import Testing

/// The limits beyond the codec's: records per owner (island), inbound rate limits, and
/// routing-table diversity. Time moves by hand.
@Suite struct LimitsTests {
    let owner = Fixtures.identity(1)
    let other = Fixtures.identity(2)
    let verifier = Ed25519Verifier()

    func copy(_ r: Record) -> RecordCopy { RecordCopy(record: r, remaining: r.ttl) }
    func key(_ n: Int) -> RecordKey { RecordKey.make(network: Fixtures.network, namespace: "type", name: "_t\(n)._tcp") }

    // MARK: records per island

    @Test func oneOwnerCannotHoldMoreThanItsShareOfTheStoreOverAllKeys() {
        var limits = Limits()
        limits.maxValuesPerOwner = 3
        var store = RecordStore(limits: limits)
        for n in 0..<3 { #expect(store.store(copy(owner.record(key: key(n), sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier) == .added) }
        #expect(store.store(copy(owner.record(key: key(3), sequence: 1, ttl: 60, payload: [])), now: .zero, verifier: verifier)
            == .rejected(.tooManyValuesFromOwner))
        #expect(RecordRejection.tooManyValuesFromOwner.reason == "too_many_values_from_owner")
        // A newer value in a held slot is no new slot; another owner is not affected.
        #expect(store.store(copy(owner.record(key: key(0), sequence: 2, ttl: 600, payload: [1])), now: .zero, verifier: verifier) == .replaced)
        #expect(store.store(copy(other.record(key: key(3), sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier) == .added)
        #expect(store.ownerTotals[owner.id] == 3)
        // Expiry gives the share back.
        var short = RecordStore(limits: limits)
        for n in 0..<3 { _ = short.store(copy(owner.record(key: key(n), sequence: 1, ttl: n == 0 ? 10 : 600, payload: [])), now: .zero, verifier: verifier) }
        #expect(short.removeExpired(now: Fixtures.at(10)).count == 1)
        #expect(short.ownerTotals[owner.id] == 2)
        #expect(short.store(copy(owner.record(key: key(9), sequence: 1, ttl: 600, payload: [])), now: Fixtures.at(10), verifier: verifier) == .added)
    }

    // MARK: inbound rate limits

    func limiter(rate: Double = 10, burst: Double = 20, total: Double = 1_000, totalBurst: Double = 1_000, sources: Int = 100) -> InboundRateLimiter {
        var limits = Limits()
        limits.sourcePacketsPerSecond = rate
        limits.sourcePacketBurst = burst
        limits.totalPacketsPerSecond = total
        limits.totalPacketBurst = totalBurst
        limits.rateLimitedSources = sources
        return InboundRateLimiter(limits: limits)
    }

    let a = Endpoint(ipv4: 192, 0, 2, 1, port: 7400)
    let b = Endpoint(ipv4: 192, 0, 2, 2, port: 7400)

    @Test func aSourceGetsItsBurstThenItsRate() {
        var limiter = limiter()
        let start = Fixtures.at(100)
        let burst = (0..<30).map { _ in limiter.admit(from: a, now: start) }
        #expect(burst.filter { $0 == .admitted }.count == 20)
        #expect(burst.last == .sourceLimited)
        #expect(InboundRateLimiter.Verdict.sourceLimited.reason == "rate_limited_source")
        // 0.5 s later: 5 tokens back at 10/s.
        let later = (0..<10).map { _ in limiter.admit(from: a, now: start + .seconds(0.5)) }
        #expect(later.filter { $0 == .admitted }.count == 5)
        // Another source is not affected; another port of the same address is the same source.
        #expect(limiter.admit(from: b, now: start + .seconds(0.5)) == .admitted)
        #expect(limiter.admit(from: Endpoint(ipv4: 192, 0, 2, 1, port: 9999), now: start + .seconds(0.5)) == .sourceLimited)
        // Idle long enough, the whole burst is back (not more).
        let refilled = (0..<30).map { _ in limiter.admit(from: a, now: start + .seconds(60)) }
        #expect(refilled.filter { $0 == .admitted }.count == 20)
    }

    @Test func allSourcesTogetherAreCappedByTheTotal() {
        var limiter = limiter(total: 10, totalBurst: 10)
        let verdicts = (0..<15).map { i in limiter.admit(from: Endpoint(ipv4: 198, 51, 100, UInt8(i), port: 1), now: .zero) }
        #expect(verdicts.filter { $0 == .admitted }.count == 10)
        #expect(verdicts.last == .totalLimited)
        #expect(limiter.admit(from: a, now: Fixtures.at(1)) == .admitted)
    }

    @Test func anIPv6SourceIsItsSlash64AndLoopbackIsAddressAndPort() {
        var limiter = limiter(rate: 1, burst: 1)
        let one = Endpoint(address: .v6(0x2001_0db8_0000_0001, 1), port: 1)
        let sameSlash64 = Endpoint(address: .v6(0x2001_0db8_0000_0001, 0xffff), port: 2)
        #expect(limiter.admit(from: one, now: .zero) == .admitted)
        #expect(limiter.admit(from: sameSlash64, now: .zero) == .sourceLimited)
        #expect(limiter.admit(from: Endpoint(address: .v6(0x2001_0db8_0000_0002, 1), port: 1), now: .zero) == .admitted)
        let l1 = Endpoint(ipv4: 127, 0, 0, 1, port: 4000), l2 = Endpoint(ipv4: 127, 0, 0, 1, port: 4001)
        #expect(limiter.admit(from: l1, now: .zero) == .admitted)
        #expect(limiter.admit(from: l2, now: .zero) == .admitted, "test nodes on one host are separate sources")
        #expect(limiter.admit(from: l1, now: .zero) == .sourceLimited)
    }

    @Test func forgedSourcesCannotGrowTheTableBeyondItsBound() {
        var limiter = limiter(rate: 1, burst: 2, total: 1e9, totalBurst: 1e9, sources: 50)
        for i in 0..<10_000 {
            _ = limiter.admit(from: Endpoint(address: .v4(0x0A00_0000 | UInt32(i)), port: 1), now: .zero)
            #expect(limiter.trackedSources <= 51)
        }
        // Past the bound new sources share one bucket: the flood is still metered.
        #expect(limiter.admit(from: Endpoint(ipv4: 203, 0, 113, 9, port: 1), now: .zero) == .sourceLimited)
        // Once sources go idle their buckets are forgotten and newcomers get their own.
        #expect(limiter.admit(from: Endpoint(ipv4: 203, 0, 113, 9, port: 1), now: Fixtures.at(10)) == .admitted)
        #expect(limiter.trackedSources <= 51)
    }

    // MARK: routing-table diversity

    let local = NodeID(w0: 0, w1: 0, w2: 0, w3: 0)
    func far(_ n: UInt64) -> NodeID { Fixtures.id(near: local, leadingZeros: 0, seed: n) }

    @Test func aBucketTakesAtMostTwoContactsOfOneSlash24() {
        var table = RoutingTable(localID: local, k: 20, diversity: SubnetDiversity())
        let subnet = (1...5).map { Contact(id: far(UInt64($0)), endpoint: Endpoint(ipv4: 198, 51, 100, UInt8($0), port: 7400)) }
        let results = subnet.map { table.observe($0, now: .zero, recentlySeen: .seconds(60)) }
        #expect(results.filter { if case .inserted = $0 { true } else { false } }.count == 2)
        #expect(results.dropFirst(2).allSatisfy { $0 == .refusedSubnet })
        // Another /24, and a known contact's renewal, are not affected.
        #expect(table.observe(Contact(id: far(9), endpoint: Endpoint(ipv4: 198, 51, 101, 1, port: 7400)), now: .zero, recentlySeen: .seconds(60))
            != .refusedSubnet)
        #expect(table.observe(subnet[0], now: Fixtures.at(1), recentlySeen: .seconds(60)) == .refreshed)
        #expect(table.count == 3)
    }

    @Test func theLimitIsPerBucketAndPerSlash48ForIPv6() {
        var table = RoutingTable(localID: local, k: 20, diversity: SubnetDiversity())
        func v6(_ n: UInt64, _ site: UInt64) -> Endpoint { Endpoint(address: .v6(0x2001_0db8_0000_0000 | site << 16 | n, 1), port: 7400) }
        for n in 1...3 as ClosedRange<UInt64> { _ = table.observe(Contact(id: far(n), endpoint: v6(n, 1)), now: .zero, recentlySeen: .seconds(60)) }
        #expect(table.count == 2, "three /64s of one /48")
        _ = table.observe(Contact(id: far(4), endpoint: v6(4, 2)), now: .zero, recentlySeen: .seconds(60))
        #expect(table.count == 3, "another /48")
        // A closer bucket has its own two places for the same /24 (k = 2: the full bucket splits).
        var v4 = RoutingTable(localID: local, k: 2, diversity: SubnetDiversity())
        for n in 1...2 as ClosedRange<UInt64> { _ = v4.observe(Contact(id: far(n), endpoint: Endpoint(ipv4: 198, 51, 100, UInt8(n), port: 1)), now: .zero, recentlySeen: .seconds(60)) }
        let near = Fixtures.id(near: local, leadingZeros: 1, seed: 77)
        #expect(v4.observe(Contact(id: near, endpoint: Endpoint(ipv4: 198, 51, 100, 77, port: 1)), now: .zero, recentlySeen: .seconds(60)) != .refusedSubnet)
        #expect(v4.buckets.count == 2 && v4.count == 3)
    }

    @Test func loopbackIsExemptAndAContactMovingIntoAFullSubnetIsDropped() {
        var table = RoutingTable(localID: local, k: 20, diversity: SubnetDiversity())
        for n in 1...5 { _ = table.observe(Contact(id: far(UInt64(n)), endpoint: Endpoint(ipv4: 127, 0, 0, 1, port: UInt16(4000 + n))), now: .zero, recentlySeen: .seconds(60)) }
        #expect(table.count == 5)
        var moving = RoutingTable(localID: local, k: 20, diversity: SubnetDiversity())
        for n in 1...2 { _ = moving.observe(Contact(id: far(UInt64(n)), endpoint: Endpoint(ipv4: 198, 51, 100, UInt8(n), port: 1)), now: .zero, recentlySeen: .seconds(60)) }
        let mover = Contact(id: far(3), endpoint: Endpoint(ipv4: 192, 0, 2, 3, port: 1))
        _ = moving.observe(mover, now: .zero, recentlySeen: .seconds(60))
        #expect(moving.count == 3)
        #expect(moving.observe(Contact(id: mover.id, endpoint: Endpoint(ipv4: 198, 51, 100, 3, port: 1)), now: Fixtures.at(1), recentlySeen: .seconds(60))
            == .refusedSubnet)
        #expect(!moving.contains(mover.id))
    }

    @Test func aNodeCountsTheContactsItsTableRefused() {
        var node = DHTNode(identity: Fixtures.identity(50), configuration: Configuration(network: Fixtures.network), seed: 1)
        var rng = Xoshiro256(seed: 3)
        for n in 0..<40 {
            let sender = NodeID.random(using: &rng)
            let header = MessageHeader(network: Fixtures.network, sender: sender, transaction: UInt32(n))
            _ = node.handle(.received(Message(header: header, body: .ping), from: Endpoint(ipv4: 203, 0, 113, 7, port: UInt16(5000 + n))), now: .zero)
        }
        // The host's first two ids fill the one bucket's two places for its /24; the bucket
        // never fills to k, so it never splits, and the other 38 are refused.
        #expect(node.table.count == 2)
        #expect(node.counters.limitHits["subnet_per_bucket", default: 0] == 38)
    }
}
