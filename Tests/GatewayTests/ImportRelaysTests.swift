import DNSSD
@testable import Gateway
import Island
import Primitives
import Policy
import Testing

/// The import side of the relay, step by step: a probe first for a routed TCP service, a
/// relay listener for what cannot be reached, publishing on this leader's addresses and the
/// relay's port, and closing what is no longer needed.
struct ImportRelaysTests {
    let owner = NodeID(w0: 0xb, w1: 0, w2: 0, w3: 0)
    let leader = [try! IPAddress("192.168.1.2")]

    func relays(_ mode: RelayMode = .auto) throws -> ImportRelays {
        var relays = ImportRelays()
        relays.mode = mode
        relays.localPrefixes = [try IPPrefix("192.168.1.0/24")]
        relays.leaderAddresses = leader
        return relays
    }

    func record(_ addresses: [String], prefixes: [String] = ["10.2.0.0/24"]) throws -> ServiceRecord {
        var record = try Fixture.record("Printer", addresses: addresses)
        record.relay = RelayOffer(endpoints: [Endpoint(ipv4: 100, 64, 2, 1, port: 7403)],
                                  lanPrefixes: try prefixes.map { try IPPrefix($0) }, lanRouted: true)
        return record
    }

    @Test func aRoutedServiceIsProbedOnceThenPublishedDirectlyWhenReachable() throws {
        var relays = try relays()
        let record = try record(["10.2.0.5"])
        let (first, effects) = relays.resolve(record.id, record, owner: owner)
        #expect(first == .wait && effects == [.probe(record.id, [try IPAddress("10.2.0.5")], port: 631)])
        #expect(relays.resolve(record.id, record, owner: owner).1.isEmpty, "asked once")
        relays.probed(record.id, reachable: true)
        #expect(relays.resolve(record.id, record, owner: owner).0 == .publish([try IPAddress("10.2.0.5")], port: 631, relayed: nil))
    }

    @Test func anUnreachableServiceGoesThroughARelayListenerOnThisLeadersAddresses() throws {
        var relays = try relays()
        let record = try record(["10.2.0.5"])
        _ = relays.resolve(record.id, record, owner: owner)
        relays.probed(record.id, reachable: false)
        let (waiting, effects) = relays.resolve(record.id, record, owner: owner)
        let source = RelaySource(leader: owner, endpoints: [Endpoint(ipv4: 100, 64, 2, 1, port: 7403)], island: record.island,
                                 type: record.type, name: record.name)
        #expect(waiting == .wait && effects == [.openRelay(record.id, source)])
        relays.opened(record.id, port: 40_001)
        #expect(relays.resolve(record.id, record, owner: owner).0 == .publish(leader, port: 40_001, relayed: .unreachable))
        #expect(relays.forget(record.id) == [.closeRelay(record.id)])
    }

    @Test func nothingIsDecidedUntilThisIslandsLANIsKnown() throws {
        var relays = try relays()
        relays.localPrefixes = []
        let record = try record(["192.168.1.20"], prefixes: ["192.168.1.0/24"])
        // Published now, the import would name a host of this LAN (the same 192.168.1.0/24).
        #expect(relays.resolve(record.id, record, owner: owner) == (.wait, []))
        relays.localPrefixes = [try IPPrefix("192.168.1.0/24")]
        let (_, effects) = relays.resolve(record.id, record, owner: owner)
        #expect(effects.count == 1 && { if case .openRelay = effects[0] { true } else { false } }())
        // With the relay off there is nothing to wait for.
        relays = try self.relays(.off)
        relays.localPrefixes = []
        #expect(relays.resolve(record.id, record, owner: owner).0 == .publish([try IPAddress("192.168.1.20")], port: 631, relayed: nil))
    }

    @Test func theSamePrefixOnBothSidesIsRelayedWithoutAProbe() throws {
        var relays = try relays()
        let record = try record(["192.168.1.20"], prefixes: ["192.168.1.0/24"])
        let (_, effects) = relays.resolve(record.id, record, owner: owner)
        #expect(effects.count == 1 && { if case .openRelay = effects[0] { true } else { false } }())
        relays.failed(record.id, reason: "no port")
        guard case .unusable = relays.resolve(record.id, record, owner: owner).0 else { Issue.record("a failed relay is unusable"); return }
    }

    @Test func aPathThatBecomesDirectClosesTheRelay() throws {
        var relays = try relays()
        let shared = try record(["192.168.1.20"], prefixes: ["192.168.1.0/24"])
        _ = relays.resolve(shared.id, shared, owner: owner)
        relays.opened(shared.id, port: 40_002)
        relays.mode = .off
        let (resolution, effects) = relays.resolve(shared.id, shared, owner: owner)
        #expect(resolution == .publish([try IPAddress("192.168.1.20")], port: 631, relayed: nil))
        #expect(effects == [.closeRelay(shared.id)])
    }
}
