import SIP
import Testing

/// The proxy role (RFC 3261 §16.11) as pure values: what the gateway forwards, where, with
/// which Via and Max-Forwards, what it refuses (483, 482), and how responses find their way back.
@Suite struct ProxyTests {
    /// The gateway: 10.0.2.1:5060 on the island link 10.0.2.0/24.
    static let gateway = SIPHost.ipv4(0x0a00_0201)
    static let identity = SIPNodeIdentity(hosts: [gateway], port: 5060)
    static let link = [SIPSubnet("10.0.2.0/24")!]
    /// A phone on the link, and a UA on another island (the contact a 302 names).
    static let phone = SIPSource(host: .ipv4(0x0a00_0205), port: 5062, transport: .udp)
    static let stranger = SIPSource(host: .ipv4(0xc000_0201), port: 5062, transport: .udp)
    static let start = ContinuousClock.now
    static let aliceContact = SIPContact(uri: SIPURI(user: "alice", host: .ipv4(0x0a00_0105), port: 5070))

    static func request(
        _ method: String, uri: String = "sip:alice@example.org", route: String? = "<sip:10.0.2.1;lr>",
        maxForwards: Int? = 70, toTag: String? = nil, branch: String = "z9hG4bK776asdhds", cseq: Int = 1,
        extraVia: [String] = [], extra: [String] = []
    ) -> [UInt8] {
        var lines = ["\(method) \(uri) SIP/2.0"] + extraVia.map { "Via: \($0)" }
            + ["Via: SIP/2.0/UDP 10.0.2.5:5062;branch=\(branch);rport"]
        if let maxForwards { lines.append("Max-Forwards: \(maxForwards)") }
        if let route { lines.append("Route: \(route)") }
        lines += [
            "To: <sip:alice@example.org>" + (toTag.map { ";tag=\($0)" } ?? ""),
            "From: <sip:bob@example.org>;tag=1928301774",
            "Call-ID: a84b4c76e66710@10.0.2.5",
            "CSeq: \(cseq) \(method)",
            "Contact: <sip:bob@10.0.2.5:5062>",
        ] + extra + ["Content-Length: 4"]
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\nv=0\n").utf8)
    }

    static func parsed(_ bytes: [UInt8]) throws -> SIPRequest { try SIPRequest(try SIPMessage.parse(bytes)) }

    static func service(_ mode: SIPRouting.Mode = .redirect, registrar: Registrar.Configuration? = nil) -> RedirectService {
        RedirectService(configuration: .init(routing: SIPRouting(
            mode: mode, identity: identity, localNetworks: link, registrar: registrar)), now: start)
    }

    // MARK: StatelessProxy alone

    @Test func aForwardedRequestGetsOurViaOnTopOneHopLessAndLosesOurRoute() throws {
        let proxy = StatelessProxy(identity: Self.identity)
        let request = try Self.parsed(Self.request("INVITE", uri: "sip:alice@10.0.1.5:5070",
                                                   route: "<sip:10.0.2.1;lr>, <sip:10.9.9.9;lr>"))
        let outbound = try proxy.forward(request).get()
        #expect(outbound.hop == SIPHop(host: .ipv4(0x0a09_0909), port: 5060), "the next Route is the next hop")
        let forwarded = try Self.parsed(outbound.bytes)
        #expect(forwarded.via.count == 2)
        #expect(forwarded.via[0].host == Self.gateway && forwarded.via[0].port == 5060)
        #expect(forwarded.via[0].branch?.hasPrefix(StatelessProxy.branchPrefix) == true)
        #expect(forwarded.via[1].branch == "z9hG4bK776asdhds")
        #expect(forwarded.maxForwards == 69)
        #expect(StatelessProxy.routes(of: forwarded)?.map(\.description) == ["<sip:10.9.9.9;lr>"])
        #expect(forwarded.message.body == Array("v=0\n".utf8), "the body goes along untouched")
        #expect(forwarded.requestURI.description == "sip:alice@10.0.1.5:5070")
    }

    @Test func withoutFurtherRoutesTheRequestURIIsTheNextHopAndMaxForwardsIsAddedWhenMissing() throws {
        let proxy = StatelessProxy(identity: Self.identity)
        let request = try Self.parsed(Self.request("INVITE", uri: "sip:alice@10.0.1.5:5070", maxForwards: nil))
        let outbound = try proxy.forward(request).get()
        #expect(outbound.hop == SIPHop(host: .ipv4(0x0a00_0105), port: 5070))
        let forwarded = try Self.parsed(outbound.bytes)
        #expect(forwarded.maxForwards == 69)
        #expect(forwarded.message.fields(.route).isEmpty)
        // A retargeted request (proxy mode) gets the contact as its Request-URI.
        let target = SIPURI(user: "alice", host: .ipv4(0x0a00_0106), port: 5080)
        let retargeted = try proxy.forward(try Self.parsed(Self.request("INVITE")), requestURI: target).get()
        #expect(retargeted.hop == SIPHop(host: .ipv4(0x0a00_0106), port: 5080))
        #expect(try Self.parsed(retargeted.bytes).requestURI == .sip(target))
    }

    @Test func maxForwardsZeroIsTooManyHopsAndOneStillGoesOutAsZero() throws {
        let proxy = StatelessProxy(identity: Self.identity)
        let zero = try Self.parsed(Self.request("INVITE", uri: "sip:alice@10.0.1.5", maxForwards: 0))
        #expect(proxy.forward(zero) == .failure(.tooManyHops))
        #expect(StatelessProxy.Refusal.tooManyHops.status == 483)
        let one = try proxy.forward(try Self.parsed(Self.request("INVITE", uri: "sip:alice@10.0.1.5", maxForwards: 1))).get()
        #expect(try Self.parsed(one.bytes).maxForwards == 0)
    }

    @Test func aRequestThatComesBackUnchangedIsALoopButARetargetedOneIsASpiral() throws {
        let proxy = StatelessProxy(identity: Self.identity)
        let request = try Self.parsed(Self.request("INVITE", uri: "sip:alice@10.0.1.5", route: nil))
        let once = try proxy.forward(request).get()
        // The same request reaches the gateway again (say, a misconfigured peer sends it back).
        let back = try Self.parsed(once.bytes)
        #expect(proxy.forward(back) == .failure(.loopDetected))
        #expect(StatelessProxy.Refusal.loopDetected.status == 482)
        // Back with another Request-URI: a spiral (§16.3 step 4), forwarded again.
        var spiral = back
        spiral.requestURI = .sip(SIPURI(user: "alice", host: .ipv4(0x0a00_0106)))
        #expect(throws: Never.self) { try proxy.forward(spiral).get() }
    }

    @Test func cancelAndRetransmissionGetTheBranchOfTheirInvite() throws {
        let proxy = StatelessProxy(identity: Self.identity)
        let invite = try Self.parsed(proxy.forward(try Self.parsed(Self.request("INVITE", uri: "sip:alice@10.0.1.5"))).get().bytes)
        let again = try Self.parsed(proxy.forward(try Self.parsed(Self.request("INVITE", uri: "sip:alice@10.0.1.5"))).get().bytes)
        let cancel = try Self.parsed(proxy.forward(try Self.parsed(Self.request("CANCEL", uri: "sip:alice@10.0.1.5"))).get().bytes)
        let other = try Self.parsed(proxy.forward(try Self.parsed(Self.request("INVITE", uri: "sip:alice@10.0.1.5", branch: "z9hG4bKother"))).get().bytes)
        #expect(invite.via[0].branch == again.via[0].branch)
        #expect(invite.via[0].branch == cancel.via[0].branch)
        #expect(invite.via[0].branch != other.via[0].branch)
    }

    @Test func aResponseLosesOurViaAndGoesToTheReceivedAndRportOfTheNext() throws {
        let proxy = StatelessProxy(identity: Self.identity)
        let response = Fixtures.message(
            "SIP/2.0 180 Ringing",
            "Via: SIP/2.0/UDP 10.0.2.1:5060;branch=z9hG4bKz2zabc.def, SIP/2.0/UDP phone.local:5062;branch=z9hG4bK776;rport=40000;received=10.0.2.5",
            "To: <sip:alice@example.org>;tag=x", "From: <sip:bob@example.org>;tag=1", "Call-ID: c", "CSeq: 1 INVITE",
            "Content-Length: 0")
        guard case .relay(let outbound) = proxy.route(response: try SIPMessage.parse(response)) else {
            Issue.record("not relayed"); return
        }
        #expect(outbound.hop == SIPHop(host: .ipv4(0x0a00_0205), port: 40000))
        let relayed = try SIPMessage.parse(outbound.bytes)
        let vias = relayed.fields(.via).map(\.value)
        #expect(vias == ["SIP/2.0/UDP phone.local:5062;branch=z9hG4bK776;rport=40000;received=10.0.2.5"])
        #expect(relayed.startLine == Array("SIP/2.0 180 Ringing".utf8))
        // Not ours: dropped with a reason, never relayed.
        let foreign = Fixtures.message(
            "SIP/2.0 200 OK", "Via: SIP/2.0/UDP 10.0.2.7:5060;branch=z9hG4bKz2zabc", "Via: SIP/2.0/UDP 10.0.2.5:5062;branch=z9hG4bK1",
            "To: <sip:a@b>;tag=x", "From: <sip:b@b>;tag=1", "Call-ID: c", "CSeq: 1 INVITE", "Content-Length: 0")
        #expect(proxy.route(response: try SIPMessage.parse(foreign)) == .drop(.responseNotForUs))
        // Our Via alone: an answer to the gateway's own request (a probe).
        let own = Fixtures.message(
            "SIP/2.0 200 OK", "Via: SIP/2.0/UDP 10.0.2.1:5060;branch=z9hG4bKz2zp1",
            "To: <sip:a@b>;tag=x", "From: <sip:b@b>;tag=1", "Call-ID: c", "CSeq: 1 OPTIONS", "Content-Length: 0")
        #expect(proxy.route(response: try SIPMessage.parse(own)) == .own(branch: "z9hG4bKz2zp1", statusCode: 200))
    }

    @Test func subnetsContainTheirAddressesOnly() {
        let v4 = SIPSubnet("10.0.2.0/24")!
        #expect(v4.contains(.ipv4(0x0a00_02ff)) && !v4.contains(.ipv4(0x0a00_0301)))
        let v6 = SIPSubnet("fd00:2::/64")!
        #expect(v6.contains(try! SIPHost(parsing: "[fd00:2::5]")) && !v6.contains(try! SIPHost(parsing: "[fd00:3::5]")))
        #expect(!v6.contains(.ipv4(0x0a00_0205)))
        #expect(SIPSubnet("10.0.2.0/33") == nil && SIPSubnet("example.org/8") == nil && SIPSubnet("10.0.2.0") == nil)
    }

    // MARK: the redirect service with the proxy role

    @Test func anAoRIsRedirectedAndTheCallersNextInviteToTheContactIsForwarded() throws {
        var service = Self.service()
        guard case .lookup(let query) = service.receive(Self.request("INVITE"), from: Self.phone, now: Self.start) else {
            Issue.record("no lookup"); return
        }
        guard case .respond(let redirect, _) = service.complete(query, contacts: [Self.aliceContact], now: Self.start) else {
            Issue.record("no response"); return
        }
        #expect(redirect.statusCode == 302)
        // baresip follows the 302 through its outbound proxy, the gateway: forwarded, not 404.
        let follow = Self.request("INVITE", uri: "sip:alice@10.0.1.5:5070", branch: "z9hG4bKsecond")
        guard case .forward(let outbound) = service.receive(follow, from: Self.phone, now: Self.start) else {
            Issue.record("not forwarded"); return
        }
        #expect(outbound.hop == SIPHop(host: .ipv4(0x0a00_0105), port: 5070))
        // The ACK for the 200 and the BYE (in-dialog, To tag) go the same way.
        let ack = Self.request("ACK", uri: "sip:alice@10.0.1.5:5070", toTag: "callee", branch: "z9hG4bKack")
        guard case .forward = service.receive(ack, from: Self.phone, now: Self.start) else { Issue.record("ACK not forwarded"); return }
        let bye = Self.request("BYE", uri: "sip:alice@10.0.1.5:5070", toTag: "callee", branch: "z9hG4bKbye", cseq: 2)
        guard case .forward = service.receive(bye, from: Self.phone, now: Self.start) else { Issue.record("BYE not forwarded"); return }
        // Even without Route, a request to the contact the gateway handed out is forwarded.
        let direct = Self.request("INVITE", uri: "sip:alice@10.0.1.5:5070", route: nil, branch: "z9hG4bKthird")
        guard case .forward = service.receive(direct, from: Self.stranger, now: Self.start) else { Issue.record("not forwarded"); return }
    }

    @Test func inProxyModeAKnownAoRIsForwardedToItsContact() throws {
        var service = Self.service(.proxy)
        guard case .lookup(let query) = service.receive(Self.request("INVITE", route: nil), from: Self.stranger, now: Self.start) else {
            Issue.record("no lookup"); return
        }
        guard case .forward(let outbound) = service.complete(query, contacts: [Self.aliceContact], now: Self.start) else {
            Issue.record("not forwarded"); return
        }
        #expect(outbound.hop == SIPHop(host: .ipv4(0x0a00_0105), port: 5070))
        #expect(try Self.parsed(outbound.bytes).requestURI == Self.aliceContact.uri)
        // No contact: 404, as in redirect mode.
        guard case .respond(let notFound, _) = service.complete(query, contacts: [], now: Self.start) else {
            Issue.record("no response"); return
        }
        #expect(notFound.statusCode == 404)
    }

    @Test func theUserAtTheGatewayIsLookedUpByUserPart() throws {
        var service = Self.service()
        guard case .lookup(let query) = service.receive(Self.request("INVITE", uri: "sip:alice@10.0.2.1", route: nil),
                                                        from: Self.phone, now: Self.start) else {
            Issue.record("no lookup"); return
        }
        #expect(query.byUser)
        #expect(query.addressOfRecord.user == "alice")
        // OPTIONS to the gateway itself (a phone's keep-alive) is answered by the gateway.
        guard case .respond(let options, _) = service.receive(Self.request("OPTIONS", uri: "sip:10.0.2.1", route: nil),
                                                              from: Self.phone, now: Self.start) else {
            Issue.record("no response"); return
        }
        #expect(options.statusCode == 200)
    }

    @Test func anUnknownTargetIsForwardedForPhonesOfTheLinkOnly() throws {
        var service = Self.service()
        let request = Self.request("INVITE", uri: "sip:carol@10.0.3.9")
        guard case .lookup(let local) = service.receive(request, from: Self.phone, now: Self.start) else {
            Issue.record("no lookup"); return
        }
        guard case .forward(let outbound) = service.complete(local, contacts: [], now: Self.start) else {
            Issue.record("a phone of the link may use the gateway as outbound proxy"); return
        }
        #expect(outbound.hop == SIPHop(host: .ipv4(0x0a00_0309), port: 5060))
        guard case .lookup(let foreign) = service.receive(request, from: Self.stranger, now: Self.start) else {
            Issue.record("no lookup"); return
        }
        guard case .respond(let refused, _) = service.complete(foreign, contacts: [], now: Self.start) else {
            Issue.record("a stranger must not be relayed anywhere"); return
        }
        #expect(refused.statusCode == 404)
    }

    @Test func maxForwardsZeroOnTheProxyPathIsAnswered483() throws {
        var service = Self.service()
        let request = Self.request("BYE", uri: "sip:alice@10.0.1.5:5070", maxForwards: 0, toTag: "t")
        guard case .respond(let response, _) = service.receive(request, from: Self.phone, now: Self.start) else {
            Issue.record("no response"); return
        }
        #expect(response.statusCode == 483)
    }

    @Test func aHeaderLineWithoutColonGets400InsteadOfSilence() throws {
        var service = RedirectService()
        let bytes = Fixtures.message(
            "INVITE sip:alice@example.org SIP/2.0", "Via: SIP/2.0/UDP 10.0.2.5:5062;branch=z9hG4bK1", "Max-Forwards: 70",
            "To: <sip:alice@example.org>", "From: <sip:bob@example.org>;tag=1", "Call-ID: x", "CSeq: 1 INVITE",
            "This line has no colon", "Content-Length: 0")
        guard case .respond(let response, let rejection) = service.receive(bytes, from: Self.phone, now: Self.start) else {
            Issue.record("no answer"); return
        }
        #expect(response.statusCode == 400)
        #expect(rejection == .headerLineMalformed)
        #expect(response.values(.via).first?.hasPrefix("SIP/2.0/UDP 10.0.2.5:5062;branch=z9hG4bK1") == true)
    }

    @Test func responsesAreIgnoredWithoutTheProxyRoleAndRelayedWithIt() throws {
        let response = Fixtures.message(
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP 10.0.2.1:5060;branch=z9hG4bKz2zabc.def", "Via: SIP/2.0/UDP 10.0.2.5:5062;branch=z9hG4bK776",
            "To: <sip:alice@example.org>;tag=x", "From: <sip:bob@example.org>;tag=1", "Call-ID: c", "CSeq: 1 INVITE",
            "Content-Length: 0")
        var plain = RedirectService()
        #expect(plain.receive(response, from: Self.stranger, now: Self.start) == .drop(rejection: .responseIgnored))
        var routing = Self.service()
        guard case .forward(let outbound) = routing.receive(response, from: Self.stranger, now: Self.start) else {
            Issue.record("not relayed"); return
        }
        #expect(outbound.hop == SIPHop(host: .ipv4(0x0a00_0205), port: 5062))
    }

    @Test func strangersCannotBounceRequestsThroughTheGateway() throws {
        var service = Self.service()
        // In-dialog, routed through us, to a target the gateway never handed out.
        let bye = Self.request("BYE", uri: "sip:victim@198.51.100.9", toTag: "t")
        guard case .respond(let refused, _) = service.receive(bye, from: Self.stranger, now: Self.start) else {
            Issue.record("a stranger's BYE must not be forwarded"); return
        }
        #expect(refused.statusCode == 405)
        // A Route set through us to somewhere else.
        let onward = Self.request("INVITE", uri: "sip:victim@198.51.100.9", route: "<sip:10.0.2.1;lr>, <sip:198.51.100.9;lr>")
        if case .forward = service.receive(onward, from: Self.stranger, now: Self.start) { Issue.record("forwarded for a stranger") }
        // The same for a phone of the link is fine.
        guard case .forward = service.receive(bye, from: Self.phone, now: Self.start) else { Issue.record("not forwarded"); return }
    }

    @Test func overTCPTheUserAtTheGatewayIsStillLookedUpButNotProxied() throws {
        var service = Self.service(.proxy)
        let tcp = SIPSource(host: Self.phone.host, port: 5062, transport: .tcp)
        guard case .lookup(let query) = service.receive(Self.request("INVITE", uri: "sip:alice@10.0.2.1", route: nil), from: tcp,
                                                        now: Self.start) else {
            Issue.record("no lookup"); return
        }
        #expect(query.byUser)
        guard case .respond(let response, _) = service.complete(query, contacts: [Self.aliceContact], now: Self.start) else {
            Issue.record("a TCP request cannot be proxied statelessly: 302 instead"); return
        }
        #expect(response.statusCode == 302)
    }
}
