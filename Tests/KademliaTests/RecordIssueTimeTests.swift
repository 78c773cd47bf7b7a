import Kademlia
import Primitives
import Testing

/// Records held to their issue time (issue 18, point 2): a store captured and replayed
/// later, after the tombstone ran out or at a node that restarted, brought a withdrawn
/// service back for minutes, and each replay gave it another full lifetime.
@Suite struct RecordIssueTimeTests {
    let owner = Fixtures.identity(1)
    let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")
    let verifier = Ed25519Verifier()
    /// The wall clock at `now == 0` (Unix seconds).
    let epoch: UInt64 = 1_765_000_000

    func copy(_ r: Record) -> RecordCopy { RecordCopy(record: r, remaining: r.ttl) }

    /// Stores at `seconds` after the epoch, with the wall clock.
    func store(_ r: Record, in store: inout RecordStore, at seconds: UInt64) -> RecordStore.Outcome {
        store.store(copy(r), now: Fixtures.at(Double(seconds)), wall: epoch + seconds, verifier: verifier)
    }

    @Test func aCopyIssuedMoreThanALifetimeAgoIsRefusedAsStale() {
        var holder = RecordStore(limits: .default)
        let r = owner.record(key: key, sequence: 1, ttl: 300, payload: [1], issuedAt: epoch)
        #expect(store(r, in: &holder, at: 300 + Record.clockSkew - 1) == .added, "within the lifetime and the clock allowance")
        var fresh = RecordStore(limits: .default)
        #expect(store(r, in: &fresh, at: 300 + Record.clockSkew) == .rejected(.stale))
        #expect(RecordRejection.stale.reason == "stale")
    }

    @Test func noCopyIsKeptPastItsIssueTimeWhateverLifetimeItClaims() {
        var holder = RecordStore(limits: .default)
        let r = owner.record(key: key, sequence: 1, ttl: 300, payload: [1], issuedAt: epoch)
        #expect(store(r, in: &holder, at: 200) == .added)
        // Received at 200 with 300 s left, but issued at 0: kept until 360, not 500.
        #expect(holder.copies(for: key, now: Fixtures.at(359)).count == 1)
        #expect(holder.copies(for: key, now: Fixtures.at(360)).isEmpty)
    }

    @Test func aReplayOfTheHeldRecordDoesNotExtendItsLifetime() {
        var holder = RecordStore(limits: .default)
        let r = owner.record(key: key, sequence: 1, ttl: 300, payload: [1], issuedAt: epoch)
        #expect(store(r, in: &holder, at: 0) == .added)
        let expiry = holder.entry(key: key, slot: r.slot)?.expiresAt
        #expect(store(r, in: &holder, at: 250) == .renewed)
        #expect(holder.entry(key: key, slot: r.slot)?.expiresAt == expiry)
    }

    @Test func theOwnerIssuingTheSameVersionAgainRenewsIt() {
        var holder = RecordStore(limits: .default)
        let r = owner.record(key: key, sequence: 1, ttl: 300, payload: [1], issuedAt: epoch)
        #expect(store(r, in: &holder, at: 0) == .added)
        let again = owner.reissued(r, at: epoch + 240)
        #expect(again.sequence == r.sequence && again.issuedAt == epoch + 240 && again.signature != r.signature)
        #expect(store(again, in: &holder, at: 240) == .renewed)
        #expect(holder.copies(for: key, now: Fixtures.at(500)).map(\.record) == [again])
        // The old bytes are now older than the held ones: refused, not swapped back.
        #expect(store(r, in: &holder, at: 250) == .rejected(.staleSequence))
        // Nobody else can issue it again: the signature covers the issue time.
        var forged = r
        forged.issuedAt = epoch + 250
        #expect(store(forged, in: &holder, at: 250) == .rejected(.badSignature))
    }

    /// The issue's replay: the store of a service captured before its withdrawal, sent again
    /// at every moment afterwards, is never taken: the tombstone stays until the captured
    /// copy is stale.
    @Test func aTombstoneOutlivesEveryCopyOfWhatItDeleted() {
        var holder = RecordStore(limits: .default)
        let value = owner.record(key: key, sequence: 1, ttl: 300, payload: [1], issuedAt: epoch)
        #expect(store(value, in: &holder, at: 0) == .added)
        let tombstone = owner.tombstone(for: value, issuedAt: epoch + 100)
        #expect(tombstone.ttl >= value.ttl && tombstone.issuedAt >= value.issuedAt)
        #expect(store(tombstone, in: &holder, at: 100) == .deleted)
        for second in stride(from: UInt64(100), through: 1_000, by: 10) {
            _ = holder.removeExpired(now: Fixtures.at(Double(second)))
            let outcome = store(value, in: &holder, at: second)
            #expect(outcome == .rejected(.staleSequence) || outcome == .rejected(.stale), "at \(second) s: \(outcome)")
        }
    }

    /// The gap left: a node that lost the tombstone (it restarted) takes a replayed copy, but
    /// only until the copy's issue time runs out, and a second replay does not extend it.
    @Test func aNodeThatLostTheTombstoneKeepsAReplayOnlyUntilItsIssueTimeRunsOut() {
        var restarted = RecordStore(limits: .default)
        let value = owner.record(key: key, sequence: 1, ttl: 300, payload: [1], issuedAt: epoch)
        #expect(store(value, in: &restarted, at: 200) == .added)
        #expect(store(value, in: &restarted, at: 300) == .renewed)
        #expect(restarted.copies(for: key, now: Fixtures.at(360)).isEmpty)
        _ = restarted.removeExpired(now: Fixtures.at(360))
        #expect(store(value, in: &restarted, at: 360) == .rejected(.stale))
    }
}

/// Nodes with a wall clock issue their own records when they put and republish them, so a
/// record kept alive by its owner never goes stale while a copy captured once does.
@Suite struct NodeIssueTimeTests {
    let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")
    let epoch: UInt64 = 1_765_000_000

    func copies(_ net: TestNetwork, _ record: Record) -> [Record] {
        net.nodes.compactMap { $0.store.entry(key: record.key, slot: record.slot)?.record }
    }

    /// `structureThreshold`: 2 runs the DHT (id-only refreshes renew the held bytes, which
    /// holders only hand to subscribers and getters, never store anywhere), 24 direct
    /// exchange (every member holds everything, republished in full, as bridges forward it).
    @Test(arguments: [2, 24])
    func aLiveRecordStaysHeldAndFreshForManyLifetimes(structureThreshold: Int) {
        var net = TestNetwork(count: 12) {
            $0.wallClockAtZero = epoch
            $0.structureThreshold = structureThreshold
        }
        net.form()
        let put = net.nodes[3].identity.record(key: key, sequence: 1, ttl: 120, payload: [42])
        net.command(3, .put(RequestID(1), put))
        net.run(for: .seconds(5))
        let first = copies(net, put)
        #expect(!first.isEmpty)
        #expect(first.allSatisfy { $0.issuedAt >= epoch && $0.payload == [42] }, "issued when put, not at 0")
        // Five lifetimes: the owner republishes; its holders keep the record.
        net.run(for: .seconds(600))
        let wall = epoch + net.now.nanoseconds / 1_000_000_000
        let later = copies(net, put)
        #expect(later.count >= first.count / 2, "still held: \(later.count) of \(first.count)")
        #expect(net.nodes.allSatisfy { ($0.counters.rejections[.stale] ?? 0) == 0 })
        // A copy captured at the put is stale by now, and would be refused.
        #expect(first.allSatisfy { $0.validUntil <= wall })
        if structureThreshold == 24 {
            // Republished in full: what members hold (and bridges forward) is fresh.
            #expect(later.allSatisfy { $0.validUntil > wall })
        }
    }
}

extension NodeIssueTimeTests {
    /// The push path: a `notify` captured when a service was exported and sent to the
    /// subscriber again after its withdrawal brings nothing back once the copy is stale.
    /// Gateways of ad hoc networks often have no NTP: a node whose clock is a day behind is
    /// held to its own clock as reckoned from its records (`OwnerClocks`), so its fresh
    /// records cross and stay, while a replay of one issued long ago on its clock is stale.
    @Test(arguments: [-86_400, 86_400])
    func anOwnerWhoseClockIsADayOffIsHeldToItsOwnClock(skew: Int) {
        var net = TestNetwork(count: 4) {
            $0.wallClockAtZero = epoch
            $0.structureThreshold = 24
        }
        var skewed = net.nodes[1].configuration
        skewed.wallClockAtZero = UInt64(Int(epoch) + skew)
        net.nodes[1] = DHTNode(identity: net.nodes[1].identity, configuration: skewed, seed: 99)
        net.form()
        net.command(2, .subscribe(RequestID(1), key))
        net.run(for: .seconds(5))
        let put = net.nodes[1].identity.record(key: key, valueID: 1, sequence: 1, ttl: 120, payload: [7])
        net.command(1, .put(RequestID(2), put))
        net.run(for: .seconds(5))
        let captured = try? #require(copies(net, put).first)
        #expect(copies(net, put).count == 4, "every member holds the skewed owner's record")
        net.run(for: .seconds(600)) // five lifetimes, republished by the owner
        #expect(copies(net, put).count == 4, "still held by every member")
        #expect(net.nodes.allSatisfy { ($0.counters.rejections[.stale] ?? 0) == 0 }, "no fresh record refused")
        guard let captured else { return }
        let push = Message(header: MessageHeader(network: Fixtures.network, sender: net.nodes[1].id, transaction: 0),
                           body: .notify(RecordCopy(record: captured, remaining: captured.ttl)))
        net.deliver(2, push, from: TestNetwork.endpoint(1))
        #expect(net.nodes[2].counters.rejections[.stale] == 1, "the capture from 600 s ago is stale on its owner's clock")
    }

    @Test func aReplayedPushOfAWithdrawnValueIsRefusedAsStale() {
        var net = TestNetwork(count: 4) {
            $0.wallClockAtZero = epoch
            $0.structureThreshold = 24
        }
        net.form()
        net.command(2, .subscribe(RequestID(1), key))
        net.run(for: .seconds(5))
        let put = net.nodes[1].identity.record(key: key, valueID: 1, sequence: 1, ttl: 120, payload: [7])
        net.command(1, .put(RequestID(2), put))
        net.run(for: .seconds(5))
        let captured = try? #require(copies(net, put).first)
        net.command(1, .put(RequestID(3), net.nodes[1].identity.tombstone(for: put)))
        net.run(for: .seconds(400))
        guard let captured else { return }
        let before = net.notifications.count
        let push = Message(header: MessageHeader(network: Fixtures.network, sender: net.nodes[1].id, transaction: 0),
                           body: .notify(RecordCopy(record: captured, remaining: captured.ttl)))
        net.deliver(2, push, from: TestNetwork.endpoint(1))
        net.run(for: .seconds(1))
        #expect(net.notifications.count == before, "nothing new: \(net.notifications.suffix(from: before).map(\.notification.change))")
        #expect(net.nodes[2].counters.rejections[.stale] == 1)
    }
}
