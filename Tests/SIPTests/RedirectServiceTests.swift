import SIP
import Testing

/// RedirectService case by case, as a pure value: bytes and a clock in, a decision out.
@Suite struct RedirectServiceTests {
    static let source = SIPSource(host: .ipv4(0xc000_0201), port: 5070, transport: .udp)
    static let start = ContinuousClock.now

    static func request(
        _ method: String, uri: String = "sip:alice@example.org", cseq: String? = nil, maxForwards: String? = "70",
        toTag: String? = nil, via: String = "SIP/2.0/UDP pc33.example.net:5070;branch=z9hG4bK776asdhds", extra: [String] = []
    ) -> [UInt8] {
        var lines = ["\(method) \(uri) SIP/2.0", "Via: \(via)"]
        if let maxForwards { lines.append("Max-Forwards: \(maxForwards)") }
        lines += [
            "To: Alice <sip:alice@example.org>" + (toTag.map { ";tag=\($0)" } ?? ""),
            "From: Bob <sip:bob@example.net>;tag=1928301774",
            "Call-ID: a84b4c76e66710@pc33.example.net",
            "CSeq: \(cseq ?? "314159 \(method)")",
        ] + extra + ["Content-Length: 0"]
        return Fixtures.message(lines.joined(separator: "\r\n"))
    }

    static let aliceContact = SIPContact(uri: SIPURI(user: "alice", host: .ipv4(0xc000_020a), port: 5062),
                                         parameters: [SIPParameter(name: "expires", value: "60")])

    /// Receives, and answers a lookup from a table holding alice.
    static func status(_ bytes: [UInt8], service: inout RedirectService, at now: ContinuousClock.Instant = start,
                       contacts: [SIPContact] = [aliceContact]) -> SIPResponse? {
        switch service.receive(bytes, from: source, now: now) {
        case .respond(let response, _), .registered(let response, _, _): return response
        case .drop, .forward, .probeAnswer: return nil
        case .lookup(let query):
            return service.answer(query, contacts: query.addressOfRecord.user == "alice" ? contacts : [])
        }
    }

    @Test(arguments: ["INVITE", "OPTIONS", "MESSAGE"])
    func knownAoRIsMovedTemporarilyToItsContacts(method: String) throws {
        var service = RedirectService()
        let response = try #require(Self.status(Self.request(method), service: &service))
        #expect(response.statusCode == 302)
        #expect(response.reasonPhrase == "Moved Temporarily")
        #expect(response.values(.contact) == ["<sip:alice@192.0.2.10:5062>;expires=60"])
        // RFC 3261 §8.2.6.2: Via, From, Call-ID, CSeq copied; To copied with a tag added.
        #expect(response.values(.via) == ["SIP/2.0/UDP pc33.example.net:5070;branch=z9hG4bK776asdhds;received=192.0.2.1"])
        #expect(response.values(.from) == ["Bob <sip:bob@example.net>;tag=1928301774"])
        #expect(response.values(.callID) == ["a84b4c76e66710@pc33.example.net"])
        #expect(response.values(.cseq) == ["314159 \(method)"])
        let to = try #require(response.values(.to).first)
        #expect(to.hasPrefix("Alice <sip:alice@example.org>;tag="))
    }

    @Test func theToTagIsTheSameForARetransmissionAndKeptWhenPresent() throws {
        var service = RedirectService()
        let first = try #require(Self.status(Self.request("INVITE"), service: &service))
        let again = try #require(Self.status(Self.request("INVITE"), service: &service))
        #expect(first.values(.to) == again.values(.to))
        let tagged = try #require(Self.status(Self.request("OPTIONS", toTag: "existing"), service: &service))
        #expect(tagged.values(.to) == ["Alice <sip:alice@example.org>;tag=existing"])
    }

    @Test func severalContactsAreAllListed() throws {
        var service = RedirectService()
        let second = try SIPContact(parsing: "<sip:alice@[2001:db8::10]:5062;transport=tcp>;q=0.5")
        let response = try #require(Self.status(Self.request("INVITE"), service: &service, contacts: [Self.aliceContact, second]))
        #expect(response.values(.contact).count == 2)
        #expect(response.values(.contact).last == "<sip:alice@[2001:db8::10]:5062;transport=tcp>;q=0.5")
    }

    @Test func unknownAoRIsNotFound() throws {
        var service = RedirectService()
        #expect(Self.status(Self.request("INVITE", uri: "sip:nobody@example.org"), service: &service)?.statusCode == 404)
        #expect(Self.status(Self.request("INVITE", uri: "tel:+12015550123"), service: &service)?.statusCode == 404)
    }

    @Test func sipsRequestsOnlyGetSipsContacts() throws {
        var service = RedirectService()
        #expect(Self.status(Self.request("INVITE", uri: "sips:alice@example.org"), service: &service)?.statusCode == 404)
        let secure = SIPContact(uri: SIPURI(isSecure: true, user: "alice", host: .name("alice.example.org")))
        let response = Self.status(Self.request("INVITE", uri: "sips:alice@example.org"), service: &service, contacts: [secure])
        #expect(response?.values(.contact) == ["<sips:alice@alice.example.org>"])
    }

    @Test func theAoRLookedUpIsTheCanonicalFormOfTheRequestURI() {
        var service = RedirectService()
        guard case .lookup(let query) = service.receive(
            Self.request("INVITE", uri: "sip:%61lice@EXAMPLE.org:5060;transport=udp"), from: Self.source, now: Self.start)
        else {
            Issue.record("no lookup")
            return
        }
        #expect(query.addressOfRecord.description == "sip:alice@example.org")
    }

    @Test func ackGetsNoResponse() {
        var service = RedirectService()
        #expect(service.receive(Self.request("ACK"), from: Self.source, now: Self.start) == .drop(rejection: nil))
        #expect(service.receive(Self.request("ACK", cseq: "x ACK"), from: Self.source, now: Self.start)
            == .drop(rejection: .cseqMalformed))
    }

    @Test func cancelMatchingARecentInviteGets200OtherwiseCallDoesNotExist() {
        var service = RedirectService()
        _ = Self.status(Self.request("INVITE"), service: &service)
        let cancel = Self.request("CANCEL", cseq: "314159 CANCEL")
        #expect(Self.status(cancel, service: &service, at: Self.start + .seconds(1))?.statusCode == 200)
        #expect(Self.status(cancel, service: &service, at: Self.start + .seconds(40))?.statusCode == 481)
        let other = Self.request("CANCEL", cseq: "314159 CANCEL", via: "SIP/2.0/UDP pc33.example.net:5070;branch=z9hG4bKother")
        #expect(Self.status(other, service: &service, at: Self.start + .seconds(1))?.statusCode == 481)
    }

    @Test func inviteMemoryIsBounded() {
        var service = RedirectService(configuration: .init(inviteMemoryCapacity: 2))
        for branch in 1...3 {
            _ = Self.status(Self.request("INVITE", via: "SIP/2.0/UDP h.example;branch=z9hG4bK\(branch)"), service: &service)
        }
        let cancelFirst = Self.request("CANCEL", cseq: "314159 CANCEL", via: "SIP/2.0/UDP h.example;branch=z9hG4bK1")
        let cancelLast = Self.request("CANCEL", cseq: "314159 CANCEL", via: "SIP/2.0/UDP h.example;branch=z9hG4bK3")
        #expect(Self.status(cancelFirst, service: &service)?.statusCode == 481)
        #expect(Self.status(cancelLast, service: &service)?.statusCode == 200)
    }

    @Test func maxForwardsZeroIsTooManyHops() {
        var service = RedirectService()
        #expect(Self.status(Self.request("INVITE", maxForwards: "0"), service: &service)?.statusCode == 483)
        // Absent (RFC 2543 peers) counts as 70.
        #expect(Self.status(Self.request("INVITE", maxForwards: nil), service: &service)?.statusCode == 302)
    }

    @Test(arguments: ["REGISTER", "BYE", "SUBSCRIBE", "NEWMETHOD"])
    func otherMethodsAreNotAllowed(method: String) throws {
        var service = RedirectService()
        let response = try #require(Self.status(Self.request(method), service: &service))
        #expect(response.statusCode == 405)
        #expect(response.values(SIPHeaderName("Allow")) == ["INVITE, ACK, CANCEL, OPTIONS, MESSAGE"])
    }

    @Test func unsupportedRequireIsBadExtension() {
        var service = RedirectService()
        let response = Self.status(Self.request("INVITE", extra: ["Require: 100rel, timer"]), service: &service)
        #expect(response?.statusCode == 420)
        #expect(response?.values(SIPHeaderName("Unsupported")) == ["100rel, timer"])
    }

    @Test func malformedRequestsGet400WithTheReasonWhenAnswerable() throws {
        var service = RedirectService()
        let badFrom = Self.request("INVITE").replacing(Array("From: Bob <sip:bob@example.net>".utf8), with: Array("From: Bob, Jr <sip:bob@example.net>".utf8))
        guard case .respond(let response, let rejection) = service.receive(badFrom, from: Self.source, now: Self.start) else {
            Issue.record("no response")
            return
        }
        #expect(response.statusCode == 400)
        #expect(response.reasonPhrase == "Bad Request (from_malformed)")
        #expect(rejection == .fromMalformed)
        #expect(response.values(.callID) == ["a84b4c76e66710@pc33.example.net"])
        // Without a readable Via nothing can be answered.
        let noVia = Self.request("INVITE", via: "garbage")
        #expect(service.receive(noVia, from: Self.source, now: Self.start) == .drop(rejection: .viaMalformed))
    }

    @Test func responsesAndUnframeableBytesAreDropped() {
        var service = RedirectService()
        #expect(service.receive(Fixtures.torture("noreason"), from: Self.source, now: Self.start) == .drop(rejection: .responseIgnored))
        #expect(service.receive(Array("\r\n\r\n".utf8), from: Self.source, now: Self.start) == .drop(rejection: .messageEmpty))
    }

    @Test func theTopViaGetsReceivedAndRport() throws {
        var service = RedirectService()
        let response = Self.status(Self.request("OPTIONS", via: "SIP/2.0/UDP 192.0.2.1:5070;rport;branch=z9hG4bK1"), service: &service)
        #expect(response?.values(.via) == ["SIP/2.0/UDP 192.0.2.1:5070;rport=5070;branch=z9hG4bK1"])
        let behindNAT = Self.status(Self.request("OPTIONS", via: "SIP/2.0/UDP 10.0.0.7;rport;branch=z9hG4bK2"), service: &service)
        #expect(behindNAT?.values(.via) == ["SIP/2.0/UDP 10.0.0.7;rport=5070;branch=z9hG4bK2;received=192.0.2.1"])
    }

    @Test func overloadAnswerIs503WithRetryAfter() {
        var service = RedirectService()
        guard case .lookup(let query) = service.receive(Self.request("INVITE"), from: Self.source, now: Self.start) else { return }
        let response = service.unavailable(query)
        #expect(response.statusCode == 503)
        #expect(response.values(.retryAfter) == ["1"])
    }
}
