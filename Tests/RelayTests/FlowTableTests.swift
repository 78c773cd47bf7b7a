import Primitives
import Testing
@testable import Relay

/// UDP flows on an importing listener, with time moved by hand.
struct FlowTableTests {
    typealias Table = FlowTable<String, Int, String>

    func table(flows: Int = 4, queue: Int = 2) -> Table {
        var limits = RelayLimits()
        limits.connectionsPerListener = flows
        limits.flowQueueDatagrams = queue
        limits.flowRefusalHold = .seconds(2)
        return Table(limits: limits)
    }

    let t0 = Instant(nanoseconds: 1_000_000_000)

    @Test func aClientsFirstDatagramOpensAStreamAndLaterOnesWaitForItUpToTheQueue() {
        var flows = table(queue: 2)
        #expect(isOpen(flows.datagram("d1", from: "x", now: t0)))
        #expect(isHeld(flows.datagram("d2", from: "x", now: t0)))
        #expect(isDrop(flows.datagram("d3", from: "x", now: t0), .queueFull))
        #expect(flows.accepted("x", handle: 7) == ["d1", "d2"])
        guard case .forward(7) = flows.datagram("d4", from: "x", now: t0) else { Issue.record("not forwarded"); return }
        #expect(flows.handles == [7])
    }

    @Test func aRefusedFlowDropsDatagramsForTheHoldThenAsksAgain() {
        var flows = table()
        _ = flows.datagram("d1", from: "x", now: t0)
        flows.refused("x", now: t0)
        #expect(isDrop(flows.datagram("d2", from: "x", now: t0 + .seconds(1.9)), .refused))
        #expect(isOpen(flows.datagram("d3", from: "x", now: t0 + .seconds(2))))
    }

    @Test func anEndedFlowOpensAnewOnTheNextDatagram() {
        var flows = table()
        _ = flows.datagram("d1", from: "x", now: t0)
        _ = flows.accepted("x", handle: 1)
        flows.ended("x")
        #expect(isOpen(flows.datagram("d2", from: "x", now: t0)))
    }

    @Test func theListenerHoldsAtMostItsLimitOfFlowsAndRefusedOnesDoNotCount() {
        var flows = table(flows: 2)
        #expect(isOpen(flows.datagram("a", from: "x", now: t0)))
        #expect(isOpen(flows.datagram("b", from: "y", now: t0)))
        #expect(isDrop(flows.datagram("c", from: "z", now: t0), .limit))
        flows.refused("y", now: t0)
        #expect(isOpen(flows.datagram("c", from: "z", now: t0)))
        #expect(flows.active == 2)
    }

    @Test func expiredRefusalsAreSweptBeforeTheTableGrowsPastItsBound() {
        var flows = table(flows: 2)
        for client in ["p", "q"] {
            _ = flows.datagram("-", from: client, now: t0)
            flows.refused(client, now: t0)
        }
        _ = flows.datagram("-", from: "r", now: t0 + .seconds(5))
        #expect(flows.flows.count == 1)
    }

    func isOpen(_ v: Table.Verdict) -> Bool { if case .openStream = v { true } else { false } }
    func isHeld(_ v: Table.Verdict) -> Bool { if case .held = v { true } else { false } }
    func isDrop(_ v: Table.Verdict, _ why: Table.Drop) -> Bool { if case .drop(let d) = v { d == why } else { false } }
}

/// How the two sides of a splice end.
struct SpliceStateTests {
    @Test func eofShutsThePartnersOutputAfterItsWrites() {
        var side = SpliceState()
        #expect(side.readEOF() == [.shutPartnerOutputAfterWrites])
        #expect(side.readEOF() == [])
    }

    @Test func bothDirectionsDoneClosesTheSideInEitherOrder() {
        var first = SpliceState()
        _ = first.readEOF()
        #expect(first.partnerShutOutput() == [.closeSelf])
        var second = SpliceState()
        #expect(second.partnerShutOutput() == [])
        #expect(second.readEOF() == [.shutPartnerOutputAfterWrites, .closeSelf])
    }

    @Test func aCleanEndClosesThePartnerAfterItsWritesAResetAtOnce() {
        var clean = SpliceState()
        _ = clean.readEOF()
        #expect(clean.closed() == [.closePartnerAfterWrites])
        var reset = SpliceState()
        #expect(reset.closed() == [.closePartnerNow])
        #expect(reset.closed() == [])
        #expect(reset.readEOF() == [])
        #expect(reset.partnerShutOutput() == [])
    }
}
