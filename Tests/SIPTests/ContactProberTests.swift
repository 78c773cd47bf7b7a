import SIP
import Testing

/// Live contacts on a clock moved by hand: OPTIONS probes, their back-off, a contact that
/// stops answering declared dead within 15 s, callers getting 480, a registered phone's
/// binding removed, and a contact that answers again coming back.
@Suite struct ContactProberTests {
    static let start = ContinuousClock.now
    static let identity = SIPNodeIdentity(hosts: [.ipv4(0x0a00_0201)], port: 5060)
    static let contact = SIPURI(user: "alice", host: .ipv4(0x0a00_0105), port: 5070)
    static let hop = SIPHop(contact)

    /// Runs ticks every 250 ms from `from` to `to`; answers every probe when `answering`.
    static func run(_ prober: inout ContactProber, from: Duration, to: Duration, answering: Bool) -> (probes: [Duration], died: Duration?) {
        var probes: [Duration] = []
        var died: Duration?
        var elapsed = from
        while elapsed <= to {
            let now = start + elapsed
            let tick = prober.tick(now: now, identity: identity)
            for probe in tick.probes {
                probes.append(elapsed)
                if answering, let branch = branch(of: probe) { prober.answered(branch: branch, now: now) }
            }
            if died == nil, tick.died.contains(hop) { died = elapsed }
            elapsed += .milliseconds(250)
        }
        return (probes, died)
    }

    static func branch(of probe: SIPOutbound) -> String? {
        guard let message = try? SIPMessage.parse(probe.bytes), let request = try? SIPRequest(message) else { return nil }
        return request.via.first?.branch
    }

    @Test func probesAreOptionsToTheContactThatBackOffWhileItAnswers() throws {
        var prober = ContactProber()
        prober.track(Self.contact, now: Self.start)
        let tick = prober.tick(now: Self.start + .seconds(2), identity: Self.identity)
        let probe = try #require(tick.probes.first)
        #expect(probe.hop == Self.hop)
        let request = try SIPRequest(try SIPMessage.parse(probe.bytes))
        #expect(request.method == .options && request.requestURI == .sip(Self.contact))
        #expect(request.via.first?.branch?.hasPrefix(ContactProber.branchPrefix) == true)
        prober.answered(branch: try #require(request.via.first?.branch), now: Self.start + .seconds(2))
        #expect(prober.health(of: Self.hop) == .alive)
        let (probes, died) = Self.run(&prober, from: .milliseconds(2_250), to: .seconds(30), answering: true)
        #expect(died == nil)
        // 2 s, then 4 s, then every 5 s: backing off, never more than 5 s apart.
        #expect(probes == [.seconds(6), .seconds(11), .seconds(16), .seconds(21), .seconds(26)])
    }

    @Test func aContactThatStopsAnsweringIsDeadWithinFifteenSecondsAndComesBackWhenItAnswers() throws {
        var prober = ContactProber()
        prober.track(Self.contact, now: Self.start)
        let healthy = Self.run(&prober, from: .zero, to: .seconds(20), answering: true)
        let lastAnswer = try #require(healthy.probes.last)
        // Unplugged right after its last answer.
        let unplugged = Self.run(&prober, from: .milliseconds(20_250), to: .seconds(60), answering: false)
        let died = try #require(unplugged.died)
        #expect(died - lastAnswer <= .seconds(15), "dead \(died - lastAnswer) after the last answer")
        #expect(prober.health(of: Self.hop) == .dead)
        // Dead contacts are still probed, slowly; an answer revives at once.
        let revivedTick = prober.tick(now: Self.start + .seconds(120), identity: Self.identity)
        let probe = try #require(revivedTick.probes.first)
        #expect(prober.answered(branch: try #require(Self.branch(of: probe)), now: Self.start + .seconds(120)) == Self.hop)
        #expect(prober.health(of: Self.hop) == .alive)
    }

    @Test func aContactNamedByAHostNameIsNeitherProbedNorJudged() {
        var prober = ContactProber()
        let named = SIPURI(user: "alice", host: .name("pbx.example.org"), port: 5060)
        prober.track(named, now: Self.start)
        #expect(prober.tick(now: Self.start + .seconds(60), identity: Self.identity).probes.isEmpty)
        #expect(prober.health(of: SIPHop(named)) == .unknown)
    }

    @Test func aContactNotHandedOutForTenMinutesIsForgotten() {
        var prober = ContactProber()
        prober.track(Self.contact, now: Self.start)
        _ = prober.tick(now: Self.start + .seconds(599), identity: Self.identity)
        #expect(prober.entries[Self.hop] != nil)
        _ = prober.tick(now: Self.start + .seconds(600), identity: Self.identity)
        #expect(prober.entries[Self.hop] == nil)
    }

    @Test func callersGet480ForAnAoRWhoseOnlyContactIsDead() throws {
        let routing = SIPRouting(identity: Self.identity, localNetworks: [SIPSubnet("10.0.2.0/24")!], probing: .init())
        var service = RedirectService(configuration: .init(routing: routing), now: Self.start)
        let invite = Fixtures.message(
            "INVITE sip:alice@example.org SIP/2.0", "Via: SIP/2.0/UDP 10.0.2.5:5062;branch=z9hG4bKi", "Max-Forwards: 70",
            "To: <sip:alice@example.org>", "From: <sip:bob@example.org>;tag=1", "Call-ID: i", "CSeq: 1 INVITE", "Content-Length: 0")
        let contacts = [SIPContact(uri: Self.contact)]
        guard case .lookup(let query) = service.receive(invite, from: SIPSource(host: .ipv4(0x0a00_0205), port: 5062, transport: .udp),
                                                        now: Self.start) else { Issue.record("no lookup"); return }
        guard case .respond(let first, _) = service.complete(query, contacts: contacts, now: Self.start) else { Issue.record("no answer"); return }
        #expect(first.statusCode == 302)
        // Nobody answers the probes: after 15 s the contact is dead and the AoR gets 480.
        var elapsed = Duration.zero
        while elapsed <= .seconds(15) {
            _ = service.tick(now: Self.start + elapsed)
            elapsed += .milliseconds(250)
        }
        guard case .respond(let later, _) = service.complete(query, contacts: contacts, now: Self.start + elapsed) else {
            Issue.record("no answer"); return
        }
        #expect(later.statusCode == 480)
    }

    @Test func aRegisteredPhoneThatStopsAnsweringLosesItsBinding() throws {
        let link = [SIPSubnet("10.0.1.0/24")!]
        let routing = SIPRouting(identity: Self.identity, localNetworks: link, registrar: .init(localNetworks: link), probing: .init())
        var service = RedirectService(configuration: .init(routing: routing), now: Self.start)
        let register = Fixtures.message(
            "REGISTER sip:10.0.2.1 SIP/2.0", "Via: SIP/2.0/UDP 10.0.1.5:5070;branch=z9hG4bKr", "Max-Forwards: 70",
            "To: <sip:alice@10.0.2.1>", "From: <sip:alice@10.0.2.1>;tag=r", "Call-ID: r", "CSeq: 1 REGISTER",
            "Contact: <sip:alice@10.0.1.5:5070>", "Expires: 600", "Content-Length: 0")
        guard case .registered(let response, _, _) = service.receive(register, from: SIPSource(host: .ipv4(0x0a00_0105), port: 5070, transport: .udp),
                                                                   now: Self.start) else { Issue.record("not registered"); return }
        #expect(response.statusCode == 200)
        var changes: [RegistrarChange] = []
        var elapsed = Duration.zero
        while elapsed <= .seconds(15) {
            changes += service.tick(now: Self.start + elapsed).changes
            elapsed += .milliseconds(250)
        }
        #expect(changes == [.unbound(try SIPAddressOfRecord(parsing: "sip:alice@10.0.2.1"))])
    }
}
