import DNSSD
@testable import Gateway
import LocalDomain
import Policy
import Primitives
import SIP
import Testing

/// The home leader's live contacts, on a clock moved by hand: the export planner, the SIP
/// service's contact checks (`ContactProber`) and `LocalUAChecks` between them, stepped every
/// 250 ms as the daemon does. A UA announced over mDNS that stops answering OPTIONS is
/// withdrawn from the DHT within 13.5 s, and exported again once it answers.
@Suite struct LocalUAChecksTests {
    static let start = ContinuousClock.now
    static let identity = SIPNodeIdentity(hosts: [.ipv4(0x0a00_0101)], port: 5060)

    /// Dave's phone: the draft's format, its TXT contact on a `.local` name (so it is checked
    /// on its routable address, 10.0.1.5:5070).
    static func phone(_ name: String = "sip:dave@example.org Dave's phone", contact: String = "<sip:dave@dave-phone.local:5070>;audio",
                      addresses: [String] = ["10.0.1.5", "fe80::5"]) throws -> DiscoveredService {
        try Fixture.service(name, type: "_sipuri._udp", host: "dave-phone.local",
                            addresses: addresses, txt: try TXTRecord(["txtvers": "1", "contact": contact]))
    }

    /// The planner and the checks, stepped together.
    struct World {
        var export = ExportPlanner(settleTime: .milliseconds(0))
        var prober = ContactProber()
        /// When each removal and put of the phone happened (since `start`).
        var removed: [Duration] = []
        var put: [Duration] = []

        /// One step of the daemon's watcher at `elapsed`; every probe is answered when `answering`.
        mutating func step(at elapsed: Duration, answering: Bool) {
            let now = LocalUAChecksTests.start + elapsed
            let contacts = LocalUAChecks.contacts(of: Array(export.services.values), decision: export.decision(for:))
            for uri in contacts.values.joined() { prober.track(uri, now: now) }
            for probe in prober.tick(now: now, identity: LocalUAChecksTests.identity).probes where answering {
                if let branch = Self.branch(of: probe) { prober.answered(branch: branch, now: now) }
            }
            let prober = self.prober
            for effect in export.setNotAnswering(LocalUAChecks.notAnswering(contacts, health: prober.health(of:))) {
                switch effect {
                case .remove: removed.append(elapsed)
                case .put: put.append(elapsed)
                case .skipped: break
                }
            }
        }

        mutating func run(from: Duration, to: Duration, answering: Bool) {
            var elapsed = from
            while elapsed <= to {
                step(at: elapsed, answering: answering)
                elapsed += .milliseconds(250)
            }
        }

        static func branch(of probe: SIPOutbound) -> String? {
            guard let message = try? SIPMessage.parse(probe.bytes), let request = try? SIPRequest(message) else { return nil }
            return request.via.first?.branch
        }
    }

    @Test func aPhoneThatStopsAnsweringIsWithdrawnWithinFourteenSecondsAndExportedAgainWhenItAnswers() throws {
        var world = World()
        _ = world.export.activate(island: Fixture.islandA, name: "one")
        let phone = try Self.phone()
        #expect(world.export.observe(.added(phone), now: Instant(nanoseconds: 0)).contains { if case .put = $0 { true } else { false } })
        let checked = LocalUAChecks.contacts(of: [phone], decision: world.export.decision(for:))
        #expect(checked.mapValues { $0.map(SIPHop.init) } == [phone.id: [SIPHop(host: .ipv4(0x0a00_0105), port: 5070)]])

        world.run(from: .zero, to: .seconds(20), answering: true)
        #expect(world.removed.isEmpty && world.put.isEmpty, "an answering phone stays exported")
        // Unplugged (no goodbye) at 20 s: the last answer was at most 5 s before.
        world.run(from: .milliseconds(20_250), to: .seconds(40), answering: false)
        let removed = try #require(world.removed.first)
        #expect(removed - .seconds(20) <= .milliseconds(13_500), "withdrawn \(removed - .seconds(20)) after the unplug")
        #expect(world.export.exported[phone.id] == nil)
        #expect(world.export.decision(for: phone) == .skipped(.notAnswering))
        // Still checked while withheld (every 15 s); plugged in again at 40 s.
        #expect(LocalUAChecks.contacts(of: [phone], decision: world.export.decision(for:)).count == 1)
        world.run(from: .milliseconds(40_250), to: .seconds(70), answering: true)
        let back = try #require(world.put.first)
        #expect(back - .seconds(40) <= .milliseconds(15_250), "exported again \(back - .seconds(40)) after it answered")
        #expect(world.export.exported[phone.id] != nil && world.removed.count == 1 && world.put.count == 1)
    }

    @Test func onlyExportedOrWithheldUAsWithContactsOverUDPAreChecked() throws {
        var export = ExportPlanner(gate: PolicyGate(policy: Policy(rules: [
            PolicyRule(.deny, direction: .export, type: .exact(try ServiceType("_sip._udp"))),
        ])), settleTime: .milliseconds(0))
        let phone = try Self.phone()
        // A follower exports nothing, so it checks nothing: the leader does.
        _ = export.observe(.added(phone), now: Instant(nanoseconds: 0))
        #expect(LocalUAChecks.contacts(of: [phone], decision: export.decision(for:)).isEmpty)
        _ = export.activate(island: Fixture.islandA, name: "one")
        let denied = try Fixture.service("Eve's phone", type: "_sip._udp", host: "eve.local", txt: try TXTRecord(["user": "eve"]))
        let printer = try Fixture.service("Printer")
        let linkLocal = try Self.phone("sip:frank@example.org", addresses: ["169.254.0.9"])
        // Over TCP: a UDP probe cannot judge it.
        let overTCP = try Fixture.service("Grace's phone", type: "_sip._tcp", host: "grace.local", txt: try TXTRecord(["user": "grace"]))
        let checked = LocalUAChecks.contacts(of: [phone, denied, printer, linkLocal, overTCP], decision: export.decision(for:))
        #expect(Array(checked.keys) == [phone.id])
    }

    @Test func aUAIsNotAnsweringOnlyWhenEveryContactIsCheckedAndDead() throws {
        let v4 = SIPURI(user: "dave", host: .ipv4(0x0a00_0105), port: 5070)
        let v6 = SIPURI(user: "dave", host: try SIPHost(parsing: "[2001:db8::5]"), port: 5070)
        let named = SIPURI(user: "dave", host: .name("pbx.example.org"), port: 5060)
        let id = try Self.phone().id
        let dead: (SIPHop) -> ContactProber.Health = { $0 == SIPHop(v4) ? .dead : .alive }
        #expect(LocalUAChecks.notAnswering([id: [v4]], health: dead) == [id])
        #expect(LocalUAChecks.notAnswering([id: [v4, v6]], health: dead).isEmpty, "one contact still answers")
        #expect(LocalUAChecks.notAnswering([id: [v4, named]], health: { _ in .dead }).isEmpty, "a named contact is never judged")
        #expect(LocalUAChecks.notAnswering([id: [v4]], health: { _ in .unknown }).isEmpty)
    }
}
