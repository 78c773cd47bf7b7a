import DNSSD
@testable import Gateway
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous
import Testing

/// Every routable address of a service's host crosses (issue 15): exported IPv4 and IPv6,
/// never a link-local one, at most `ServiceRecord.maximumAddresses`; and published on the
/// importing island, on the direct path, with all of them — while a relayed import is still
/// published on the leader's address and relay port.
struct EveryAddressTests {
    let slot = ValueSlot(owner: NodeID(w0: 0xb, w1: 0, w2: 0, w3: 0), valueID: 1)
    let mixed = ["10.0.1.5", "169.254.1.5", "fd00:1::5", "2001:db8::5", "fe80::5"]

    /// A planner with the relay on (auto) on 192.168.1.0/24, and a dual-stack record of
    /// another island whose leader offers its relay.
    func relayingPlannerAndDualStackRecord() throws -> (ImportPlanner, ServiceRecord) {
        var imports = ImportPlanner()
        _ = imports.activate(localIsland: Fixture.islandA)
        _ = imports.setRelay(mode: .auto, localPrefixes: [try IPPrefix("192.168.1.0/24")], leaderAddresses: [try IPAddress("192.168.1.2")])
        var record = try Fixture.record("Printer", addresses: ["10.2.0.5", "fd00:2::5"])
        record.relay = RelayOffer(endpoints: [Endpoint(ipv4: 100, 64, 2, 1, port: 7403)], lanPrefixes: [try IPPrefix("10.2.0.0/24")],
                                  lanRouted: true)
        return (imports, record)
    }

    func exported(_ service: DiscoveredService) throws -> ServiceRecord? {
        var export = ExportPlanner(settleTime: .milliseconds(0))
        _ = export.activate(island: Fixture.islandA, name: "a")
        return export.observe(.added(service)).compactMap { if case .put(let record, _) = $0 { record } else { nil } }.first
    }

    @Test func aDualStackHostIsExportedWithEveryRoutableAddressAndItsLinkLocalOnesStayHome() throws {
        let record = try #require(try exported(Fixture.service("Printer", addresses: mixed)))
        #expect(record.addresses.map(\.description) == ["10.0.1.5", "2001:db8::5", "fd00:1::5"])
    }

    @Test func aHostWithARoutableAddressAndA169254AliasIsExportedWithTheRoutableOne() throws {
        let record = try #require(try exported(Fixture.service("Printer", addresses: ["169.254.1.5", "10.0.1.5"])))
        #expect(record.addresses.map(\.description) == ["10.0.1.5"])
    }

    @Test func anIPv6OnlyHostIsExportedWithItsRoutableIPv6Address() throws {
        let record = try #require(try exported(Fixture.service("Printer", addresses: ["fd00:1::5", "fe80::5"])))
        #expect(record.addresses.map(\.description) == ["fd00:1::5"])
    }

    @Test func aHostWithMoreRoutableAddressesThanARecordHoldsIsExportedWithTheFirstSixteen() throws {
        let many = (1...20).map { "10.0.1.\($0)" } + ["fd00:1::5"]
        let record = try #require(try exported(Fixture.service("Printer", addresses: many)))
        #expect(record.addresses.count == ServiceRecord.maximumAddresses)
        #expect(record.addresses.allSatisfy { $0.isIPv4 }, "IPv4 sorts first")
    }

    @Test func everyAddressSurvivesTheWireCodec() throws {
        let record = try Fixture.record("Printer", addresses: ["10.0.2.5", "10.0.2.6", "fd00:2::5", "2001:db8::5"])
        let decoded = try ServiceRecordCodec.decode(ServiceRecordCodec.encode(record))
        #expect(decoded.addresses == record.addresses)
    }

    @Test func aDualStackImportIsPublishedWithEveryAddress() throws {
        var imports = ImportPlanner()
        _ = imports.activate(localIsland: Fixture.islandA)
        let record = try Fixture.record("Printer", addresses: ["10.0.2.5", "fd00:2::5"])
        let effects = imports.apply(record, from: slot)
        guard case .publish(_, let imported)? = effects.first else { Issue.record("expected a publication, got \(effects)"); return }
        #expect(imported.publication.host == .synthesized(try HostName("printer-z2z-0b0b0b0b.local"),
                                                          addresses: [try IPAddress("10.0.2.5"), try IPAddress("fd00:2::5")]))
    }

    @Test func withTheRelayOnTheProbeTriesEveryAddressAndAReachableServiceIsPublishedWithAllOfThem() throws {
        var (imports, record) = try relayingPlannerAndDualStackRecord()
        let asked = imports.apply(record, from: slot)
        #expect(asked == [.relay(.probe(record.id, [try IPAddress("10.2.0.5"), try IPAddress("fd00:2::5")], port: 631))])
        let effects = imports.probed(record.id, reachable: true)
        guard case .publish(_, let imported)? = effects.first else { Issue.record("expected a publication, got \(effects)"); return }
        #expect(imported.relayed == nil)
        #expect(imported.publication.host == .synthesized(try HostName("printer-z2z-0b0b0b0b.local"),
                                                          addresses: [try IPAddress("10.2.0.5"), try IPAddress("fd00:2::5")]))
    }

    @Test func aRelayedDualStackImportIsStillPublishedOnTheLeadersAddressAndRelayPort() throws {
        var (imports, record) = try relayingPlannerAndDualStackRecord()
        _ = imports.apply(record, from: slot)
        _ = imports.probed(record.id, reachable: false)
        let effects = imports.relayOpened(record.id, port: 40_100)
        guard case .publish(_, let imported)? = effects.first else { Issue.record("expected a publication, got \(effects)"); return }
        #expect(imported.relayed == .unreachable)
        #expect(imported.publication.port == 40_100)
        #expect(imported.publication.host == .synthesized(try HostName("printer-relay-z2z-0b0b0b0b.local"),
                                                          addresses: [try IPAddress("192.168.1.2")]))
    }
}
