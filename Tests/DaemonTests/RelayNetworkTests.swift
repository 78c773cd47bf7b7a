@testable import Daemon
import DNSSD
import Gateway
import Island
import LocalDomain
import Policy
import Primitives
import Relay
import Testing

/// The LAN the relay works on, from the host's interfaces, and what its exporting side may
/// reach, from the machine's exports.
struct RelayNetworkTests {
    typealias Address = RelayNetwork.InterfaceAddress

    /// A dual-homed gateway: eth0 (index 2) on the island's LAN, uplink (index 3) towards other leaders.
    let interfaces: [Address] = [
        Address(interface: 1, address: try! IPAddress("127.0.0.1"), prefixLength: 8),
        Address(interface: 2, address: try! IPAddress("192.168.1.11"), prefixLength: 24),
        Address(interface: 2, address: try! IPAddress("fd00:1::11"), prefixLength: 64),
        Address(interface: 2, address: try! IPAddress("fe80::11"), prefixLength: 64),
        Address(interface: 3, address: try! IPAddress("100.64.0.11"), prefixLength: 16),
    ]

    @Test func theLANIsWhereTheAdvertIsAndOtherLeadersDialTheUplinkFirst() throws {
        let network = RelayNetwork(interfaces: interfaces, lan: [2], relayPort: 7403, lanRouted: false)
        #expect(network.prefixes == [try IPPrefix("192.168.1.0/24"), try IPPrefix("fd00:1::/64"), try IPPrefix("fe80::/64")].sorted())
        // Relayed imports are published on the LAN's addresses, never the uplink's; fe80 needs a scope.
        #expect(network.addresses == [try IPAddress("192.168.1.11"), try IPAddress("fd00:1::11")].sorted())
        let offer = try #require(network.offer)
        // The relay listens on IPv6 too: its routable IPv6 LAN address is offered, after IPv4.
        #expect(offer.endpoints.map(\.description) == ["100.64.0.11:7403", "192.168.1.11:7403", "[fd00:1:0:0:0:0:0:11]:7403"])
        #expect(offer.lanPrefixes == network.prefixes)
        #expect(offer.lanRouted == false)
    }

    @Test func aLinkLocalOnlyLANRelaysOnItsLinkLocalIPv4Address() throws {
        let interfaces = [Address(interface: 2, address: try IPAddress("169.254.7.9"), prefixLength: 16)]
        let network = RelayNetwork(interfaces: interfaces, lan: [2], relayPort: 7403, lanRouted: true)
        #expect(network.addresses == [try IPAddress("169.254.7.9")])
        #expect(network.offer?.endpoints.map(\.description) == ["169.254.7.9:7403"])
    }

    @Test func anIPv6OnlyGatewayOffersItsRoutableIPv6Addresses() throws {
        let interfaces = [
            Address(interface: 1, address: try IPAddress("::1"), prefixLength: 128),
            Address(interface: 2, address: try IPAddress("fd00:7:1::11"), prefixLength: 64),
            Address(interface: 2, address: try IPAddress("fe80::11"), prefixLength: 64),
            Address(interface: 3, address: try IPAddress("fd64::1:1"), prefixLength: 64),
        ]
        let network = RelayNetwork(interfaces: interfaces, lan: [2], relayPort: 7403, lanRouted: true)
        #expect(network.addresses == [try IPAddress("fd00:7:1::11")])
        // fe80 needs a scope; the importer tries the rest at once (the offer keeps them sorted).
        #expect(Set(network.offer?.endpoints.map(\.description) ?? []) == ["[fd64:0:0:0:0:0:1:1]:7403", "[fd00:7:1:0:0:0:0:11]:7403"])
    }

    @Test func noLANKnownMeansNoDecisionAndNoRelayPortMeansNoOffer() throws {
        #expect(RelayNetwork(interfaces: interfaces, lan: [], relayPort: 7403, lanRouted: true) == RelayNetwork())
        let withoutServer = RelayNetwork(interfaces: interfaces, lan: [2], relayPort: nil, lanRouted: true)
        #expect(withoutServer.offer == nil)
        #expect(!withoutServer.prefixes.isEmpty)
    }

    @Test func netmasksReadAsPrefixLengths() throws {
        #expect(try IPAddress("255.255.255.0").prefixLength == 24)
        #expect(try IPAddress("255.255.0.0").prefixLength == 16)
        #expect(try IPAddress("ffff:ffff:ffff:ffff::").prefixLength == 64)
        #expect(try IPAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00").prefixLength == 120)
    }

    @Test func theRelayReachesOnlyWhatIsExportedNowAndOnlyOnThatIsland() throws {
        let grants = GatewayRelay.Grants()
        let printer = ServiceID(name: try InstanceName("Printer"), type: try ServiceType("_ipp._tcp"))
        let island = IslandID(rawValue: 0xa1)
        let ref = ServiceRef(island: island, type: printer.type, name: printer.name)
        let requester = NodeID(publicKey: Array(repeating: 7, count: 32))
        #expect(grants.authorize(requester, ref) == .failure(.unknownService))

        let target = RelayTarget(addresses: [LinkAddress(interface: 2, address: try IPAddress("192.168.1.12")),
                                             LinkAddress(interface: 2, address: try IPAddress("fe80::12"))], port: 631)
        #expect(grants.apply(.grant(printer, island: island, target)) == nil)
        let endpoints = try grants.authorize(requester, ref).get()
        #expect(endpoints.map(\.description) == ["192.168.1.12:631"])
        // Another island's service of the same name is not this one.
        #expect(grants.authorize(requester, ServiceRef(island: IslandID(rawValue: 0xb2), type: printer.type, name: printer.name))
            == .failure(.unknownService))

        #expect(grants.apply(.revoke(printer)) == ref)
        #expect(grants.authorize(requester, ref) == .failure(.unknownService))
        #expect(grants.apply(.revoke(printer)) == nil)
    }

    @Test func aCircuitGoesToTheOtherIslandsLeaderOnlyWhenThisLeaderWouldImportIt() throws {
        let ipp = try ServiceType("_ipp._tcp"), ssh = try ServiceType("_ssh._tcp")
        let far = IslandID(rawValue: 0xc3)
        let leader = NodeID(w0: 0xc, w1: 0, w2: 0, w3: 0)
        let policy = Policy(rules: [PolicyRule(.deny, direction: .import, type: .exact(ssh))])
        let table = CircuitTable(leaders: [far: (leader, "far")], gate: PolicyGate(policy: policy))
        let name = try InstanceName("Printer")
        #expect(try table.route(ipp, named: name, of: far).get() == leader)
        #expect(table.route(ssh, named: name, of: far) == .failure(.denied))
        #expect(table.route(ipp, named: name, of: IslandID(rawValue: 0xd4)) == .failure(.unknownIsland))
        #expect(CircuitTable().route(ipp, named: name, of: far) == .failure(.unknownIsland), "not leading: no circuits")
    }

    /// Rules that pick instances (issue 15): a circuit knows the instance's name, not its
    /// host or addresses, so a deny rule picking by those refuses it whatever they are.
    @Test func aCircuitIsRefusedWhereARuleThatPicksInstancesMayDenyIt() throws {
        let ipp = try ServiceType("_ipp._tcp")
        let far = IslandID(rawValue: 0xc3)
        let leader = NodeID(w0: 0xc, w1: 0, w2: 0, w3: 0)
        let policy = Policy(rules: [
            PolicyRule(.deny, direction: .import, name: try NameGlob("Lab*")),
            PolicyRule(.deny, direction: .import, address: try IPPrefix(policy: "10.20.0.0/16")),
        ])
        let table = CircuitTable(leaders: [far: (leader, "far")], gate: PolicyGate(policy: policy))
        #expect(table.route(ipp, named: try InstanceName("Lab Printer"), of: far) == .failure(.denied), "by its name")
        #expect(table.route(ipp, named: try InstanceName("Office Printer"), of: far) == .failure(.denied), "its addresses unknown")
        let byName = CircuitTable(leaders: [far: (leader, "far")], gate: PolicyGate(policy: Policy(rules: [policy.rules[0]])))
        #expect(try byName.route(ipp, named: try InstanceName("Office Printer"), of: far).get() == leader)
    }

    /// An importing leader that reached no circuit relay tries a few other leaders' relays from
    /// the directory: never the exporting leader's nor its own, never one without a relay.
    @Test func circuitCandidatesAreOtherLeadersWithARelayAFewAtMost() {
        let leaders = (1...7).map { NodeID(w0: UInt64($0), w1: 0, w2: 0, w3: 0) }
        var relays = Dictionary(uniqueKeysWithValues: leaders.map { ($0, [Endpoint(ipv4: 203, 0, 113, UInt8($0.w0), port: 8022)]) })
        relays[leaders[1]] = []
        let table = CircuitTable(relays: relays)
        let candidates = table.circuitCandidates(excluding: [leaders[0], leaders[2]], limit: 4)
        #expect(candidates.map(\.leader) == [leaders[3], leaders[4], leaders[5], leaders[6]])
        #expect(candidates.first?.endpoints == [Endpoint(ipv4: 203, 0, 113, 4, port: 8022)])
        #expect(CircuitTable().circuitCandidates(excluding: [], limit: 4).isEmpty, "not leading: none")
    }
}
