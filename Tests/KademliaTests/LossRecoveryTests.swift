import Kademlia
import Primitives
import Testing

/// Lost datagrams on virtual time: a lookup whose closest node loses answers, and direct
/// exchange's stores lost on the way (or their acknowledgements, or to a short cut), each
/// with a link that loses exactly the datagrams named (`TestNetwork.lose`).
@Suite struct LossRecoveryTests {
    func key(_ name: String) -> RecordKey { RecordKey.make(network: Fixtures.network, namespace: "type", name: name) }

    // MARK: lookups

    /// The closest candidates get four requests, the others two (`Lookup.failed`).
    @Test func theClosestThreeCandidatesAreAskedFourTimesTheOthersTwice() {
        var rng = Xoshiro256(seed: 12)
        let target = NodeID.random(using: &rng)
        let seeds = (0..<6).map { Fixtures.contact(NodeID.random(using: &rng), $0) }
        let byDistance = seeds.sorted { $0.id.distance(to: target) < $1.id.distance(to: target) }
        let closestSilent = byDistance[0].id, farSilent = byDistance[4].id
        var lookup = Lookup(target: target, k: 6, alpha: 3, seeds: seeds, excluding: .zero)
        var asked: [NodeID: Int] = [:]
        var rounds = 0
        while !lookup.isFinished, rounds < 100 {
            let batch = lookup.nextQueries()
            if batch.isEmpty { break }
            for c in batch {
                asked[c.id, default: 0] += 1
                if c.id == closestSilent || c.id == farSilent { lookup.failed(c.id) } else { lookup.succeeded(c.id, closer: []) }
            }
            rounds += 1
        }
        #expect(lookup.isFinished)
        #expect(asked[closestSilent] == 4, "the closest, silent, is asked four times")
        #expect(asked[farSilent] == 2, "the fifth closest, silent, twice")
        #expect(lookup.closest.map(\.id) == [1, 2, 3, 5].map { byDistance[$0].id })
    }

    /// At 20 % loss a request and its answer both arrive with probability 0.64: a closest
    /// node that loses two answers in a row (13 % of lookups) must still be found.
    @Test func aLookupWhoseClosestNodeLosesTwoAnswersStillReturnsIt() {
        var net = TestNetwork(count: 30)
        net.form()
        var rng = Xoshiro256(seed: 21)
        let target = NodeID.random(using: &rng)
        let closest = (1..<30).min { net.nodes[$0].id.distance(to: target) < net.nodes[$1].id.distance(to: target) }!
        // Lose the closest node's first two answers to node 0's requests for the target.
        var asking = Set<UInt32>()
        var lost = 0
        net.lose = { from, to, message in
            if from == 0, to == closest, case .findNode(let asked) = message.body, asked == target { asking.insert(message.header.transaction) }
            if from == closest, to == 0, asking.contains(message.header.transaction), lost < 2 {
                lost += 1
                return true
            }
            return false
        }
        net.command(0, .lookup(RequestID(7), target))
        net.run(for: .seconds(10))
        #expect(lost == 2, "both answers were lost")
        guard case .lookup(let report) = net.outcome(RequestID(7)) else { Issue.record("no lookup outcome"); return }
        #expect(report.closest.first?.id == net.nodes[closest].id, "asked a third time, it answered")
    }

    // MARK: direct exchange

    func directExchange(_ count: Int) -> TestNetwork {
        var net = TestNetwork(count: count) { $0.structureThreshold = 16 }
        net.form()
        return net
    }

    @Test func aStoreLostOnTheWayIsSentAgainUntilTheMemberAcknowledgesIt() {
        var net = directExchange(5)
        var dropped = 0
        net.lose = { from, to, message in
            guard from == 1, to == 3, case .store = message.body, dropped == 0 else { return false }
            dropped += 1
            return true
        }
        let record = net.nodes[1].identity.record(key: key("_ipp._tcp"), sequence: 1, ttl: 3_600, payload: [1])
        net.command(1, .put(RequestID(1), record))
        net.run(for: .milliseconds(500))
        #expect(dropped == 1)
        #expect(net.nodes[3].store.valueCount == 0, "the store to node 3 was lost")
        #expect(net.nodes[1].unacknowledgedStores == 1, "and node 1 keeps it until node 3 acknowledges it")
        net.run(for: .seconds(1.5))
        #expect(net.nodes[3].store.copies(for: record.key, now: net.now).map(\.record) == [record], "sent again after 1 s")
        #expect(net.nodes[1].unacknowledgedStores == 0)
        net.run(for: .seconds(60))
        #expect(net.nodes[1].counters.redeliveries == 1, "once acknowledged, never again")
        #expect(net.nodes.allSatisfy { $0.mesh.count == 4 }, "nobody was dropped")
    }

    @Test func aLostAcknowledgementCostsOneMoreStoreAndNoSecondNotification() {
        var net = directExchange(4)
        net.command(3, .subscribe(RequestID(1), key("_ipp._tcp")))
        net.run(for: .seconds(1))
        var dropped = 0
        net.lose = { from, to, message in
            guard from == 3, to == 1, case .stored = message.body, dropped == 0 else { return false }
            dropped += 1
            return true
        }
        let record = net.nodes[1].identity.record(key: key("_ipp._tcp"), sequence: 1, ttl: 3_600, payload: [1])
        net.command(1, .put(RequestID(2), record))
        net.run(for: .seconds(5))
        #expect(dropped == 1)
        #expect(net.nodes[1].counters.redeliveries == 1)
        #expect(net.nodes[1].unacknowledgedStores == 0)
        #expect(net.notifications.filter { $0.node == 3 }.map(\.notification.change) == [.new(record)])
    }

    /// A cut of ten seconds: the owner's withdrawal and its redeliveries (after 1, 2 and 4 s)
    /// all time out, so it drops the members across the cut, which never noticed anything
    /// (they sent nothing).
    /// Pinging dropped members again on a short backoff meets them anew soon after the heal,
    /// and meeting anew hands them the owner's records: the tombstone arrives within seconds,
    /// not at the next republish (or at the value's expiry).
    @Test func aWithdrawalSentDuringATenSecondCutArrivesWithinSecondsOfTheHeal() {
        var net = directExchange(6)
        let owner = net.nodes[0].identity
        let v1 = owner.record(key: key("_ipp._tcp"), sequence: 1, ttl: 3_600, payload: [1])
        net.command(0, .put(RequestID(1), v1))
        net.run(for: .seconds(2))
        #expect(net.nodes.allSatisfy { $0.store.valueCount == 1 })

        for i in 0..<6 { net.groups[i] = i < 3 ? 0 : 1 }
        net.command(0, .put(RequestID(2), owner.tombstone(for: v1)))
        net.run(for: .seconds(10))
        #expect(net.nodes[0].mesh.count == 2, "node 0 dropped the members across the cut")
        #expect(net.nodes[3].mesh.count == 5, "which still count it as a member")
        #expect(net.nodes[3...].allSatisfy { $0.store.copies(for: v1.key, now: net.now).first?.record == v1 })

        net.groups = [:]
        net.run(for: .seconds(8))
        for i in 3..<6 {
            #expect(net.nodes[i].store.copies(for: v1.key, now: net.now).first?.record.isTombstone == true, "node \(i) has the withdrawal")
        }
        #expect(net.nodes[0].mesh.count == 5)
    }
}
