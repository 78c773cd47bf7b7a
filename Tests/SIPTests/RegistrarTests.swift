import SIP
import Testing

/// The registrar (RFC 3261 §10.3) on a clock moved by hand: bindings, their lifetime and
/// bounds, unregistering, who may register, and Digest credentials.
@Suite struct RegistrarTests {
    static let start = ContinuousClock.now
    static let link = [SIPSubnet("10.0.2.0/24")!]
    static let phone = SIPSource(host: .ipv4(0x0a00_0205), port: 5062, transport: .udp)
    static let configuration = Registrar.Configuration(minimumExpires: 60, maximumExpires: 600, defaultExpires: 300, localNetworks: link)
    static let aor = try! SIPAddressOfRecord(parsing: "sip:bob@10.0.2.1")

    static func register(
        contact: String? = "<sip:bob@10.0.2.5:5062>", expires: Int? = 120, cseq: Int = 1, callID: String = "reg-1",
        authorization: String? = nil
    ) throws -> SIPRequest {
        var lines = ["REGISTER sip:10.0.2.1 SIP/2.0", "Via: SIP/2.0/UDP 10.0.2.5:5062;branch=z9hG4bKreg\(cseq)", "Max-Forwards: 70",
                     "To: <sip:bob@10.0.2.1>", "From: <sip:bob@10.0.2.1>;tag=r1", "Call-ID: \(callID)", "CSeq: \(cseq) REGISTER"]
        if let contact { lines.append("Contact: \(contact)") }
        if let expires { lines.append("Expires: \(expires)") }
        if let authorization { lines.append("Authorization: \(authorization)") }
        lines.append("Content-Length: 0")
        return try SIPRequest(try SIPMessage.parse(Fixtures.message(lines.joined(separator: "\r\n"))))
    }

    @Test func aRegisterBindsTheAoRForItsExpiresAndTheBindingExpiresOnTime() throws {
        var registrar = Registrar(configuration: Self.configuration, started: Self.start)
        let outcome = registrar.register(try Self.register(), from: Self.phone, now: Self.start)
        #expect(outcome.status == 200)
        #expect(outcome.headers.map(\.value) == ["<sip:bob@10.0.2.5:5062>;expires=120"])
        let contact = SIPContact(uri: SIPURI(user: "bob", host: .ipv4(0x0a00_0205), port: 5062))
        #expect(outcome.changes == [.bound(Self.aor, [contact])])
        #expect(registrar.contacts(for: Self.aor, now: Self.start + .seconds(119)) == [contact])
        #expect(registrar.contacts(forUser: Array("bob".utf8), now: Self.start) == [contact])
        #expect(registrar.hasContact(at: SIPHop(host: .ipv4(0x0a00_0205), port: 5062)))
        #expect(registrar.expire(now: Self.start + .seconds(119)).isEmpty)
        #expect(registrar.expire(now: Self.start + .seconds(120)) == [.unbound(Self.aor)])
        #expect(registrar.contacts(for: Self.aor, now: Self.start + .seconds(121)).isEmpty)
    }

    @Test func tooShortIsRefused423AndTooLongIsCutToTheMaximum() throws {
        var registrar = Registrar(configuration: Self.configuration, started: Self.start)
        let brief = registrar.register(try Self.register(expires: 30), from: Self.phone, now: Self.start)
        #expect(brief.status == 423)
        #expect(brief.headers.map(\.name) == ["Min-Expires"] && brief.headers.map(\.value) == ["60"])
        #expect(registrar.bindings.isEmpty)
        let long = registrar.register(try Self.register(expires: 86_400, cseq: 2), from: Self.phone, now: Self.start)
        #expect(long.status == 200)
        #expect(long.headers.map(\.value) == ["<sip:bob@10.0.2.5:5062>;expires=600"])
        // The contact's own expires parameter wins over the header (§10.2.1.1).
        let parameter = registrar.register(try Self.register(contact: "<sip:bob@10.0.2.5:5062>;expires=90", expires: 600, cseq: 3),
                                           from: Self.phone, now: Self.start)
        #expect(parameter.headers.map(\.value) == ["<sip:bob@10.0.2.5:5062>;expires=90"])
    }

    @Test func aWildcardWithExpiresZeroUnbindsAndAnyOtherWildcardIsABadRequest() throws {
        var registrar = Registrar(configuration: Self.configuration, started: Self.start)
        _ = registrar.register(try Self.register(), from: Self.phone, now: Self.start)
        let wrong = registrar.register(try Self.register(contact: "*", expires: 60, cseq: 2), from: Self.phone, now: Self.start)
        #expect(wrong.status == 400)
        let gone = registrar.register(try Self.register(contact: "*", expires: 0, cseq: 3), from: Self.phone, now: Self.start)
        #expect(gone.status == 200 && gone.changes == [.unbound(Self.aor)])
        #expect(registrar.bindings.isEmpty)
        // Expires 0 on the contact itself removes just that binding.
        _ = registrar.register(try Self.register(cseq: 4), from: Self.phone, now: Self.start)
        let one = registrar.register(try Self.register(expires: 0, cseq: 5), from: Self.phone, now: Self.start)
        #expect(one.changes == [.unbound(Self.aor)])
    }

    @Test func aRefreshOutOfOrderIsRefusedAndAQueryListsTheBindings() throws {
        var registrar = Registrar(configuration: Self.configuration, started: Self.start)
        _ = registrar.register(try Self.register(cseq: 5), from: Self.phone, now: Self.start)
        #expect(registrar.register(try Self.register(cseq: 4), from: Self.phone, now: Self.start).status == 500)
        let refresh = registrar.register(try Self.register(cseq: 6), from: Self.phone, now: Self.start + .seconds(60))
        #expect(refresh.status == 200 && refresh.changes.isEmpty, "same contact, nothing to announce again")
        #expect(registrar.contacts(for: Self.aor, now: Self.start + .seconds(170)).count == 1, "refreshed until 180 s")
        let query = registrar.register(try Self.register(contact: nil, cseq: 7), from: Self.phone, now: Self.start + .seconds(60))
        #expect(query.status == 200 && query.headers.count == 1)
    }

    @Test func onlyTheIslandsLinkMayRegister() throws {
        var registrar = Registrar(configuration: Self.configuration, started: Self.start)
        let outsider = SIPSource(host: .ipv4(0x0a00_0105), port: 5062, transport: .udp)
        let outcome = registrar.register(try Self.register(), from: outsider, now: Self.start)
        #expect(outcome.status == 403 && outcome.refusal == "source_not_local")
        #expect(registrar.bindings.isEmpty)
    }

    @Test func digestResponsesFollowRFC2617() {
        // RFC 2617 §3.5's example.
        let response = DigestAuthentication.response(
            user: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life", method: "GET", uri: "/dir/index.html",
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", qop: ("auth", "00000001", "0a4f113b"))
        #expect(response == "6629fae49393a05397450978507c4ef1")
    }

    @Test func withCredentialsAPhoneIsChallengedAndAdmittedWithTheRightPasswordOnly() throws {
        var configuration = Self.configuration
        configuration.authentication = DigestAuthentication(realm: "z2z", credentials: ["bob": "secret"], secret: "s")
        var registrar = Registrar(configuration: configuration, started: Self.start)
        let challenged = registrar.register(try Self.register(), from: Self.phone, now: Self.start + .seconds(10))
        #expect(challenged.status == 401 && challenged.refusal == "authorization_missing")
        let challenge = try #require(challenged.headers.first { $0.name == "WWW-Authenticate" }?.value)
        let nonce = try #require(challenge.split(separator: "\"").dropFirst(3).first.map(String.init))
        func authorization(_ password: String, nonce: String) -> String {
            let digest = DigestAuthentication.response(user: "bob", realm: "z2z", password: password, method: "REGISTER",
                                                       uri: "sip:10.0.2.1", nonce: nonce, qop: ("auth", "00000001", "abc"))
            return "Digest username=\"bob\", realm=\"z2z\", nonce=\"\(nonce)\", uri=\"sip:10.0.2.1\", response=\"\(digest)\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"abc\""
        }
        let wrong = registrar.register(try Self.register(cseq: 2, authorization: authorization("guess", nonce: nonce)),
                                       from: Self.phone, now: Self.start + .seconds(11))
        #expect(wrong.status == 401 && wrong.refusal == "wrong_response")
        let right = registrar.register(try Self.register(cseq: 3, authorization: authorization("secret", nonce: nonce)),
                                       from: Self.phone, now: Self.start + .seconds(12))
        #expect(right.status == 200)
        // Five minutes on, the nonce is stale: challenged again, with stale=true.
        let stale = registrar.register(try Self.register(cseq: 4, authorization: authorization("secret", nonce: nonce)),
                                       from: Self.phone, now: Self.start + .seconds(400))
        #expect(stale.status == 401 && stale.refusal == "stale_nonce")
        #expect(stale.headers.first?.value.contains("stale=true") == true)
        // Bob's password does not register carol.
        let carol = try SIPRequest(try SIPMessage.parse(Fixtures.message([
            "REGISTER sip:10.0.2.1 SIP/2.0", "Via: SIP/2.0/UDP 10.0.2.5:5062;branch=z9hG4bKc", "Max-Forwards: 70",
            "To: <sip:carol@10.0.2.1>", "From: <sip:carol@10.0.2.1>;tag=c", "Call-ID: c", "CSeq: 1 REGISTER",
            "Contact: <sip:carol@10.0.2.5:5062>", "Authorization: \(authorization("secret", nonce: nonce))", "Content-Length: 0",
        ].joined(separator: "\r\n"))))
        let mismatch = registrar.register(carol, from: Self.phone, now: Self.start + .seconds(13))
        #expect(mismatch.status == 403 && mismatch.refusal == "user_mismatch")
        // A forged nonce is refused.
        let forged = registrar.register(try Self.register(cseq: 5, authorization: authorization("secret", nonce: "12.deadbeef")),
                                        from: Self.phone, now: Self.start + .seconds(13))
        #expect(forged.status == 401)
    }

    @Test func theRedirectServiceAnswersRegisterAndRedirectsToTheRegisteredContact() throws {
        let routing = SIPRouting(identity: SIPNodeIdentity(hosts: [.ipv4(0x0a00_0201)]), localNetworks: Self.link,
                                 registrar: Self.configuration)
        var service = RedirectService(configuration: .init(routing: routing), now: Self.start)
        let bytes = Fixtures.message(
            "REGISTER sip:10.0.2.1 SIP/2.0", "Via: SIP/2.0/UDP 10.0.2.5:5062;branch=z9hG4bKr", "Max-Forwards: 70",
            "To: <sip:bob@10.0.2.1>", "From: <sip:bob@10.0.2.1>;tag=r1", "Call-ID: r", "CSeq: 1 REGISTER",
            "Contact: <sip:bob@10.0.2.5:5062>", "Expires: 120", "Content-Length: 0")
        guard case .registered(let response, let changes, nil) = service.receive(bytes, from: Self.phone, now: Self.start) else {
            Issue.record("not registered"); return
        }
        #expect(response.statusCode == 200 && changes.count == 1)
        // A caller dials sip:bob@<gateway>: 302 to the registered contact, without any lookup.
        let invite = Fixtures.message(
            "INVITE sip:bob@10.0.2.1 SIP/2.0", "Via: SIP/2.0/UDP 10.0.2.7:5062;branch=z9hG4bKi", "Max-Forwards: 70",
            "To: <sip:bob@10.0.2.1>", "From: <sip:carol@10.0.2.1>;tag=c", "Call-ID: i", "CSeq: 1 INVITE", "Content-Length: 0")
        guard case .respond(let redirect, _) = service.receive(invite, from: Self.phone, now: Self.start) else {
            Issue.record("no answer"); return
        }
        #expect(redirect.statusCode == 302)
        #expect(redirect.values(.contact) == ["<sip:bob@10.0.2.5:5062>"])
        #expect(service.expireRegistrations(now: Self.start + .seconds(121)) == [.unbound(Self.aor)])
    }
}
