import DNSSD
@testable import Gateway
import Island
import LocalDomain
import Policy
import Primitives
import Testing

struct ExportPlannerTests {
    func planner(deny: [String] = []) throws -> ExportPlanner {
        let rules = try deny.map { PolicyRule(.deny, direction: .export, type: .exact(try ServiceType($0))) }
        return ExportPlanner(gate: PolicyGate(policy: Policy(rules: rules)), settleTime: .milliseconds(0))
    }

    func puts(_ effects: [ExportEffect]) -> [ServiceRecord] {
        effects.compactMap { if case .put(let record, _) = $0 { record } else { nil } }
    }

    @Test func leaderExportsLocalServicesWithRoutableAddressesOnly() throws {
        var export = try planner()
        _ = export.observe(.added(try Fixture.service("Lab Printer")))
        let records = puts(export.activate(island: Fixture.islandA, name: "island-a"))
        #expect(records.count == 1)
        #expect(records.first?.addresses == [try IPAddress("10.0.1.5")]) // fe80:: stays home
        #expect(records.first?.island == Fixture.islandA && records.first?.hostLabel == "printer")
    }

    @Test func followerExportsNothingUntilItLeads() throws {
        var export = try planner()
        #expect(puts(export.observe(.added(try Fixture.service("P")))).isEmpty)
    }

    @Test func gatewayPublicationsAreNeverExportedAgain() throws {
        var export = try planner()
        _ = export.activate(island: Fixture.islandA, name: "a")
        let ours = export.observe(.added(try Fixture.service("Ours", origin: [.local, .ourOwn])))
        let otherGateway = export.observe(.added(try Fixture.service("Imported Elsewhere", host: "printer-z2z-0b0b0b0b.local")))
        let advert = export.observe(.added(try Fixture.service("gw", type: "_z2z._udp")))
        #expect(ours.contains { if case .skipped(_, .ourOwn) = $0 { true } else { false } })
        #expect(otherGateway.contains { if case .skipped(_, .gatewayPublished) = $0 { true } else { false } })
        #expect(advert.contains { if case .skipped(_, .gatewayAdvert) = $0 { true } else { false } })
        #expect(export.exported.isEmpty)
    }

    @Test func linkLocalOnlyAndDeniedServicesStayHomeWithTheirReason() throws {
        var export = try planner(deny: ["_ssh._tcp"])
        _ = export.activate(island: Fixture.islandA, name: "a")
        let linkLocal = export.observe(.added(try Fixture.service("LL", addresses: ["169.254.3.4", "fe80::1"])))
        let denied = export.observe(.added(try Fixture.service("Shell", type: "_ssh._tcp")))
        #expect(linkLocal.contains(.skipped(try Fixture.service("LL").id, .noRoutableAddress)))
        #expect(denied.contains { if case .skipped(_, .denied(let verdict)) = $0 { verdict.ruleNumber == 1 } else { false } })
    }

    @Test func txtChangeIsReputAndRemovalIsDeletedAtOnce() throws {
        var export = try planner()
        _ = export.activate(island: Fixture.islandA, name: "a")
        let first = try Fixture.service("P")
        let added = export.observe(.added(first))
        #expect(puts(added).count == 1 && added.allSatisfy { if case .put(_, new: true) = $0 { true } else { false } })
        #expect(export.observe(.changed(first)).isEmpty) // nothing changed: no traffic
        let changed = try Fixture.service("P", txt: try TXTRecord(["v": "2"]))
        let reput = export.observe(.changed(changed))
        #expect(puts(reput).first?.txt == changed.instance.txt)
        #expect(reput.allSatisfy { if case .put(_, new: false) = $0 { true } else { false } }, "a changed export, not a new one")
        #expect(export.observe(.removed(first.id)) == [.remove(first.id)])
    }

    @Test func aSIPUAThatStopsAnsweringIsWithdrawnAndExportedAgainWhenItAnswers() throws {
        var export = try planner()
        _ = export.activate(island: Fixture.islandA, name: "a")
        let phone = try Fixture.service("Carol's phone", type: "_sip._udp", host: "carol.local", txt: try TXTRecord(["user": "carol"]))
        #expect(puts(export.observe(.added(phone))).count == 1)
        #expect(export.setNotAnswering([phone.id]) == [.remove(phone.id), .skipped(phone.id, .notAnswering)])
        #expect(export.decision(for: phone) == .skipped(.notAnswering) && export.exported.isEmpty)
        #expect(export.setNotAnswering([phone.id]).isEmpty, "the same set again: no traffic")
        #expect(export.observe(.changed(phone)) == [.skipped(phone.id, .notAnswering)], "still withheld when its TXT is seen again")
        let back = export.setNotAnswering([])
        #expect(back.count == 1 && back.allSatisfy { if case .put(_, new: true) = $0 { true } else { false } })
    }

    /// The DHT holds 128 values per owner per key (one key per type): more exports of one type
    /// would be refused by every node while status counted them as exported.
    @Test func exportsOfOneTypeStopAtTheDHTsLimitAndAFreedPlaceGoesToTheFirstWaiting() throws {
        var export = ExportPlanner(settleTime: .milliseconds(0), valuesPerType: 3)
        _ = export.activate(island: Fixture.islandA, name: "a")
        let printers = try (1...5).map { try Fixture.service("P\($0)") }
        var effects: [ExportEffect] = []
        for printer in printers { effects += export.observe(.added(printer)) }
        effects += export.observe(.added(try Fixture.service("Scanner", type: "_scanner._tcp")))
        #expect(puts(effects).map(\.name.value) == ["P1", "P2", "P3", "Scanner"], "another type has room of its own")
        #expect(effects.filter { if case .skipped(_, .typeFull(limit: 3)) = $0 { true } else { false } }.count == 2)
        #expect(export.capped == [printers[3].id, printers[4].id])
        #expect(export.decision(for: printers[4]) == .skipped(.typeFull(limit: 3)))
        // Said once: a change of a capped service is no news.
        #expect(export.observe(.changed(printers[4])).isEmpty)

        let freed = export.observe(.removed(printers[0].id))
        #expect(freed.first == .remove(printers[0].id))
        #expect(puts(freed).map(\.name.value) == ["P4"])
        #expect(export.capped == [printers[4].id])
        #expect(export.exported.keys.filter { $0.type == printers[0].id.type }.count == 3)
        _ = export.deactivate()
        #expect(export.capped.isEmpty)
    }

    @Test func steppingDownDeletesEverythingExported() throws {
        var export = try planner()
        _ = export.observe(.added(try Fixture.service("A")))
        _ = export.observe(.added(try Fixture.service("B")))
        _ = export.activate(island: Fixture.islandA, name: "a")
        #expect(export.deactivate().count == 2)
        #expect(export.exported.isEmpty)
    }

    @Test func policyChangeWithdrawsNowDeniedExports() throws {
        var export = try planner()
        _ = export.activate(island: Fixture.islandA, name: "a")
        let service = try Fixture.service("P")
        _ = export.observe(.added(service))
        let effects = export.setPolicy(Policy(defaultAction: .deny))
        #expect(effects.contains(.remove(service.id)))
    }
}

/// The settle time: a service seen for the first time is exported once, when its other
/// address family has had time to resolve.
struct ExportSettleTests {
    @Test func aNewServiceIsExportedOnceAfterItsSettleTimeWithEverythingSeenMeanwhile() throws {
        var export = ExportPlanner(settleTime: .milliseconds(100))
        _ = export.activate(island: IslandID(rawValue: 7), name: "seven")
        let v4 = try Fixture.service("Lab Printer", addresses: ["10.0.1.5"])
        let both = try Fixture.service("Lab Printer", addresses: ["10.0.1.5", "fd00::5"])
        #expect(export.observe(.added(v4), now: Instant(nanoseconds: 0)).isEmpty)
        #expect(export.observe(.changed(both), now: Instant(nanoseconds: 4_000_000)).isEmpty)
        #expect(export.nextDeadline == Instant(nanoseconds: 100_000_000))
        #expect(export.tick(now: Instant(nanoseconds: 99_000_000)).isEmpty)
        let puts = export.tick(now: Instant(nanoseconds: 100_000_000)).compactMap { effect -> ServiceRecord? in
            if case .put(let record, _) = effect { record } else { nil }
        }
        #expect(puts.map(\.addresses.count) == [2], "one put, with both addresses")
        #expect(export.nextDeadline == nil)
        // Changes of an exported service, and removals, go out at once.
        let moved = try Fixture.service("Lab Printer", addresses: ["10.0.1.6"])
        #expect(export.observe(.changed(moved), now: Instant(nanoseconds: 200_000_000)).count == 1)
        #expect(export.observe(.removed(moved.id), now: Instant(nanoseconds: 300_000_000)).count == 1)
    }

    @Test func aServiceGoneBeforeItSettledIsNeverExported() throws {
        var export = ExportPlanner(settleTime: .milliseconds(100))
        _ = export.activate(island: IslandID(rawValue: 7), name: "seven")
        let service = try Fixture.service("Brief")
        _ = export.observe(.added(service), now: Instant(nanoseconds: 0))
        #expect(export.observe(.removed(service.id), now: Instant(nanoseconds: 50_000_000)).isEmpty)
        #expect(export.tick(now: Instant(nanoseconds: 200_000_000)).isEmpty)
        #expect(export.exported.isEmpty)
    }
}

extension ExportPlanner {
    /// For the tests above this file's last suite: time does not matter with no settle time.
    mutating func observe(_ event: LocalDomainEvent) -> [ExportEffect] { observe(event, now: Instant(nanoseconds: 0)) }
}

/// With a relay offer (issue 14) every record carries it, and a link-local-only service
/// crosses too: through the relay, with no address of its own.
struct ExportRelayOfferTests {
    @Test func anOfferGoesWithEveryRecordAndBringsLinkLocalOnlyServicesAlong() throws {
        var export = ExportPlanner(settleTime: .milliseconds(0))
        _ = export.activate(island: IslandID(rawValue: 7), name: "seven")
        let camera = try Fixture.service("Camera", addresses: ["169.254.3.4", "fe80::1"])
        let printer = try Fixture.service("Printer")
        #expect(export.observe(.added(camera)).contains(.skipped(camera.id, .noRoutableAddress)), "no offer: it stays home")
        _ = export.observe(.added(printer))
        let offer = RelayOffer(endpoints: [Endpoint(ipv4: 100, 64, 7, 1, port: 7403)], lanPrefixes: [try IPPrefix("10.0.1.0/24")],
                               lanRouted: false)
        let effects = export.setRelayOffer(offer)
        let records = effects.compactMap { if case .put(let record, _) = $0 { record } else { nil } }
        #expect(Set(records.map(\.name.value)) == ["Camera", "Printer"])
        #expect(records.allSatisfy { $0.relay == offer })
        #expect(records.first { $0.name.value == "Camera" }?.addresses == [], "link-local addresses never travel")
        // Taking the offer back takes the link-local-only service back with it.
        #expect(export.setRelayOffer(nil).contains(.remove(camera.id)))
    }
}
