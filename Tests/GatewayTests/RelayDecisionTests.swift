import DNSSD
import Gateway
import Policy
import Primitives
import Testing

/// When an import is relayed (issue 14, item 2), as a table: each mode, link-local-only
/// services, overlapping LAN prefixes, unrouted UDP LANs and the TCP probe.
struct RelayDecisionTests {
    let ipp = try! ServiceType("_ipp._tcp")
    let echo = try! ServiceType("_echo._udp")
    let home = [try! IPPrefix("192.168.1.0/24")]

    func offer(_ prefixes: [String], routed: Bool = true) throws -> RelayOffer {
        RelayOffer(lanPrefixes: try prefixes.map { try IPPrefix($0) }, lanRouted: routed)
    }

    func path(_ mode: RelayMode, _ addresses: [String], type: ServiceType? = nil, offer: RelayOffer?, probe: Bool? = nil) throws -> ImportPath {
        RelayDecision.path(mode: mode, addresses: try addresses.map { try IPAddress($0) }, port: 631, type: type ?? ipp, offer: offer,
                           localPrefixes: home, probe: probe)
    }

    @Test func autoRelaysLinkLocalOnlyServicesAndNeedsAnOfferForThem() throws {
        #expect(try path(.auto, ["169.254.7.7", "fe80::7"], offer: offer(["10.2.0.0/24"])) == .relayed(.linkLocalOnly))
        guard case .unusable = try path(.auto, ["169.254.7.7"], offer: nil) else { Issue.record("no relay offered: unusable"); return }
    }

    @Test func autoRelaysAnAddressInAPrefixBothLANsUse() throws {
        #expect(try path(.auto, ["192.168.1.20"], offer: offer(["192.168.1.0/24"])) == .relayed(.overlappingPrefixes))
        // Another prefix of the exporting LAN does not overlap: the probe decides.
        #expect(try path(.auto, ["10.9.0.20"], offer: offer(["192.168.1.0/24", "10.9.0.0/24"])) == .probe([try IPAddress("10.9.0.20")], port: 631))
    }

    @Test func autoAsksTheProbeForTCPAndFollowsIt() throws {
        let routed = try offer(["10.2.0.0/24"])
        #expect(try path(.auto, ["10.2.0.5"], offer: routed) == .probe([try IPAddress("10.2.0.5")], port: 631))
        #expect(try path(.auto, ["10.2.0.5"], offer: routed, probe: true) == .direct)
        #expect(try path(.auto, ["10.2.0.5"], offer: routed, probe: false) == .relayed(.unreachable))
    }

    @Test func autoTakesTheExportersWordForUDP() throws {
        #expect(try path(.auto, ["10.2.0.5"], type: echo, offer: offer(["10.2.0.0/24"], routed: true)) == .direct)
        #expect(try path(.auto, ["10.2.0.5"], type: echo, offer: offer(["10.2.0.0/24"], routed: false)) == .relayed(.lanNotRouted))
    }

    @Test func forUDPAutoProbesTheExportersRelayAtItsLANAddress() throws {
        // The exporting leader's relay listens on its uplink and on its LAN (10.2.0.1).
        let offer = RelayOffer(endpoints: [Endpoint(ipv4: 100, 64, 2, 1, port: 7403), Endpoint(ipv4: 10, 2, 0, 1, port: 7403)],
                               lanPrefixes: [try IPPrefix("10.2.0.0/24")], lanRouted: true)
        #expect(try path(.auto, ["10.2.0.5"], type: echo, offer: offer) == .probe([try IPAddress("10.2.0.1")], port: 7403))
        #expect(try path(.auto, ["10.2.0.5"], type: echo, offer: offer, probe: true) == .direct)
        #expect(try path(.auto, ["10.2.0.5"], type: echo, offer: offer, probe: false) == .relayed(.lanNotRouted))
    }

    @Test func alwaysRelaysWhatIsOfferedAndOffNeverRelays() throws {
        #expect(try path(.always, ["10.2.0.5"], offer: offer(["10.2.0.0/24"])) == .relayed(.always))
        #expect(try path(.always, ["10.2.0.5"], offer: nil) == .direct)
        #expect(try path(.off, ["192.168.1.20"], offer: offer(["192.168.1.0/24"])) == .direct)
        guard case .unusable = try path(.off, ["169.254.7.7"], offer: offer(["10.2.0.0/24"])) else {
            Issue.record("link-local only with the relay off: unusable"); return
        }
    }
}
