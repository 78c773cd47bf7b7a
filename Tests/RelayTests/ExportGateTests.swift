import Primitives
import Testing
@testable import Relay

/// The exporting leader's admission, limits, revocation and counts, with no network.
struct ExportGateTests {
    let lan = [Endpoint(ipv4: 192, 168, 1, 20, port: 631)]
    let printer = Fixture.service("Printer")
    let scanner = Fixture.service("Scanner", type: "_uscan._tcp")
    let a = Fixture.node(1), b = Fixture.node(2)

    func gate(perPeer: Int = 10, perService: Int = 10) -> ExportGate {
        var limits = RelayLimits()
        limits.connectionsPerPeer = perPeer
        limits.connectionsPerService = perService
        return ExportGate(limits: limits)
    }

    @Test func anAuthorizedRequestIsAdmittedWithTheAuthorizersEndpoints() {
        var gate = gate()
        guard case .admitted(let id, let endpoints) = gate.admit(requester: a, service: printer, authorization: .success(lan)) else {
            Issue.record("refused"); return
        }
        #expect(endpoints == lan)
        #expect(gate.book.open[id]?.service == printer)
        #expect(gate.report.services[printer] == { var t = ServiceTraffic(); t.streams = 1; t.open = 1; return t }())
    }

    @Test func theAuthorizersRefusalIsPassedOnAndCountedUnderItsReason() {
        var gate = gate()
        #expect(gate.admit(requester: a, service: printer, authorization: .failure(.notExported)) == .refused(.notExported))
        #expect(gate.admit(requester: a, service: printer, authorization: .failure(.unknownService)) == .refused(.unknownService))
        #expect(gate.admit(requester: a, service: printer, authorization: .success([])) == .refused(.unreachable))
        #expect(gate.report.refusals == [.notExported: 1, .unknownService: 1, .unreachable: 1])
        #expect(gate.book.open.isEmpty)
    }

    /// A circuit (a stream forwarded to another leader) takes the same slots and is refused
    /// for the same reasons as a stream to a service of the island's own.
    @Test func aCircuitIsAdmittedAgainstTheSameLimitsAndRevocation() {
        var gate = gate(perPeer: 1)
        let target = Fixture.node(3)
        guard case .success(let id) = gate.admitCircuit(requester: a, service: printer, route: .success(target)) else {
            Issue.record("refused"); return
        }
        #expect(gate.book.open[id] == StreamBook.Stream(peer: a, service: printer))
        #expect(gate.admitCircuit(requester: a, service: scanner, route: .success(target)) == .failure(.limitConnectionsPeer))
        #expect(gate.admit(requester: a, service: scanner, authorization: .success(lan)) == .refused(.limitConnectionsPeer))
        #expect(gate.admitCircuit(requester: b, service: scanner, route: .failure(.notExported)) == .failure(.notExported))
        #expect(gate.revoke(printer) == [id])
        #expect(gate.admitCircuit(requester: b, service: printer, route: .success(target)) == .failure(.revoked))
        #expect(gate.report.refusals == [.limitConnectionsPeer: 2, .notExported: 1, .revoked: 1])
        #expect(gate.report.endings == [.revoked: 1])
    }

    @Test func eachPeerAndEachServiceHasItsLimit() {
        var gate = gate(perPeer: 2, perService: 3)
        for _ in 0..<2 { _ = gate.admit(requester: a, service: printer, authorization: .success(lan)) }
        #expect(gate.admit(requester: a, service: scanner, authorization: .success(lan)) == .refused(.limitConnectionsPeer))
        #expect(gate.admit(requester: b, service: printer, authorization: .success(lan)) != .refused(.limitConnectionsService))
        #expect(gate.admit(requester: b, service: printer, authorization: .success(lan)) == .refused(.limitConnectionsService))
        #expect(gate.report.refusals == [.limitConnectionsPeer: 1, .limitConnectionsService: 1])
    }

    @Test func anEndedOrFailedStreamFreesItsSlot() {
        var gate = gate(perPeer: 1)
        guard case .admitted(let first, _) = gate.admit(requester: a, service: printer, authorization: .success(lan)) else { return }
        gate.book.ended(first, service: printer, .closed, bytes: ByteCounts(toService: 10, fromService: 2000))
        guard case .admitted(let second, _) = gate.admit(requester: a, service: printer, authorization: .success(lan)) else {
            Issue.record("slot not freed"); return
        }
        gate.book.failed(second, .unreachable)
        #expect(gate.admit(requester: a, service: printer, authorization: .success(lan)) != .refused(.limitConnectionsPeer))
        let traffic = gate.report.services[printer]!
        #expect(traffic.streams == 2 && traffic.open == 1)
        #expect(traffic.bytesToService == 10 && traffic.bytesFromService == 2000)
        #expect(gate.report.refusals == [.unreachable: 1])
        #expect(gate.report.endings == [.closed: 1])
    }

    @Test func revocationClosesTheInstancesStreamsOnBothTransportsAndRefusesNewOnesUntilReinstated() {
        var gate = gate()
        var udp = printer
        udp.transport = .udp
        var ids: [StreamID] = []
        for service in [printer, udp, scanner] {
            if case .admitted(let id, _) = gate.admit(requester: a, service: service, authorization: .success(lan)) { ids.append(id) }
        }
        #expect(gate.revoke(printer) == [ids[0], ids[1]])
        #expect(gate.book.open.keys.sorted() == [ids[2]])
        #expect(gate.admit(requester: b, service: udp, authorization: .success(lan)) == .refused(.revoked))
        // The revoked streams' channels close later; their ends add bytes but count once.
        gate.book.ended(ids[0], service: printer, .closed, bytes: ByteCounts(toService: 1, fromService: 5))
        #expect(gate.report.endings == [.revoked: 2])
        #expect(gate.report.services[printer]?.bytesFromService == 5)
        gate.reinstate(udp)
        #expect(gate.admit(requester: b, service: printer, authorization: .success(lan)) != .refused(.revoked))
    }

    @Test func revocationIsCheckedBeforeTheAuthorizersAnswer() {
        var gate = gate()
        _ = gate.revoke(printer)
        #expect(gate.admit(requester: a, service: printer, authorization: .failure(.notExported)) == .refused(.revoked))
    }
}
