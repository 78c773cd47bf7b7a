@testable import Kademlia
import Primitives
import Testing

/// `Redelivery`, the backlog of direct exchange's unacknowledged stores, on its own:
/// backoff, replacement by newer records, acknowledgements and its bound.
@Suite struct RedeliveryTests {
    let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")
    let member = Fixtures.contact(Fixtures.identity(9).id, 9)

    func record(_ valueID: UInt64, sequence: UInt64) -> Record {
        Fixtures.identity(1).record(key: key, valueID: valueID, sequence: sequence, ttl: 600, payload: [UInt8(truncatingIfNeeded: valueID)])
    }

    @Test func anUnacknowledgedStoreIsSentAgainAfterOneTwoFourEightAndThenEveryEightSeconds() {
        var backlog = Redelivery(first: .seconds(1), cap: .seconds(8), perMember: 4)
        let kept = backlog.sent(record(1, sequence: 1), to: member, now: .zero)
        #expect(kept)
        var sends: [Double] = []
        var now = Instant.zero
        while now < Fixtures.at(40) {
            now = now + .milliseconds(100)
            sends += backlog.due(now: now).map { _ in now.seconds }
        }
        #expect(sends.map { ($0 * 10).rounded() / 10 } == [1, 3, 7, 15, 23, 31, 39])
        backlog.acknowledged(.init(key: key, slot: record(1, sequence: 1).slot, sequence: 1), by: member.id)
        #expect(backlog.isEmpty && backlog.nextDue == nil)
    }

    @Test func aNewerRecordReplacesTheWaitingOneAndAnOlderAcknowledgementKeepsIt() {
        var backlog = Redelivery(first: .seconds(1), cap: .seconds(8), perMember: 4)
        _ = backlog.sent(record(1, sequence: 1), to: member, now: .zero)
        _ = backlog.sent(record(1, sequence: 2), to: member, now: .zero)
        #expect(backlog.count == 1)
        backlog.acknowledged(.init(key: key, slot: record(1, sequence: 1).slot, sequence: 1), by: member.id)
        #expect(backlog.count == 1, "the acknowledgement was for the older record")
        let due = backlog.due(now: Fixtures.at(1))
        #expect(due.map(\.record.sequence) == [2])
        backlog.acknowledged(.init(key: key, slot: record(1, sequence: 2).slot, sequence: 2), by: member.id)
        #expect(backlog.isEmpty)
    }

    @Test func eachMemberHoldsAtMostItsShareAndDroppingAMemberForgetsIt() {
        var backlog = Redelivery(first: .seconds(1), cap: .seconds(8), perMember: 3)
        let other = Fixtures.contact(Fixtures.identity(8).id, 8)
        let kept = (1...5).map { backlog.sent(record($0, sequence: 1), to: member, now: .zero) }
        #expect(kept == [true, true, true, false, false])
        let newer = backlog.sent(record(2, sequence: 2), to: member, now: .zero)
        #expect(newer, "a newer record of a waiting slot still fits")
        let another = backlog.sent(record(1, sequence: 1), to: other, now: .zero)
        #expect(another)
        #expect(backlog.count(for: member.id) == 3 && backlog.count == 4)
        backlog.forget(member.id)
        #expect(backlog.count == 1)
    }

    /// The node counts what its bound refused.
    @Test func aNodeCountsStoresItsBacklogCouldNotKeep() {
        var net = TestNetwork(count: 3) {
            $0.structureThreshold = 16
            $0.maxUnacknowledgedPerMember = 2
        }
        net.form()
        net.silenced = [2]
        for v in 1...3 as ClosedRange<UInt64> { net.command(0, .put(RequestID(v), net.nodes[0].identity.record(key: key, valueID: v, sequence: 1, ttl: 600, payload: [1]))) }
        #expect(net.nodes[0].counters.limitHits["redelivery_per_member"] == 2, "the third record, for each of the two members")
        #expect(net.nodes[0].unacknowledgedStores == 4)
        net.run(for: .milliseconds(100))
        #expect(net.nodes[0].unacknowledgedStores == 2, "node 1 acknowledged, silent node 2 did not")
        net.run(for: .seconds(2))
        #expect(net.nodes[0].mesh.count == 1 && net.nodes[0].unacknowledgedStores == 0, "silent node 2 was dropped, and its backlog with it")
    }
}
