import DNSSD
@testable import Gateway
import GatewayReports
import Island
import LocalDomain
import Policy
import Primitives
import Testing
import Z2ZAPI

/// Router mode's in-process exchange between links: each link an island, services cross
/// to the other links with their fields, once per link, by name without renaming a host.
struct LinkExchangeTests {
    static let names = [(name: "staff", interface: "lan0"), (name: "students", interface: "lan1"), (name: "guests", interface: "lan2")]
    let t0 = Instant(nanoseconds: 0)
    let later = Instant(nanoseconds: 1_000_000_000)
    static let address = try! IPAddress("10.0.1.5")

    /// Three links whose browses have settled.
    func exchange(policy: Policy = .permitAll) -> LinkExchange {
        var exchange = LinkExchange(links: Self.names, policy: policy)
        for link in 0..<3 { #expect(exchange.observe(.settled, on: link, now: t0).isEmpty) }
        return exchange
    }

    static func service(_ name: String, type: String = "_ipp._tcp", host: String = "printer.local", address: String = "10.0.1.5",
                        origin: Origin = []) throws -> DiscoveredService {
        try Fixture.service(name, type: type, host: host, addresses: [address], origin: origin)
    }

    /// Publications by link.
    func published(_ effects: [LinkExchange.Effect]) -> [Int: [Publication]] {
        var result: [Int: [Publication]] = [:]
        for case .publish(let link, _, let publication) in effects { result[link, default: []].append(publication) }
        return result
    }

    func withdrawn(_ effects: [LinkExchange.Effect]) -> [Int] {
        effects.compactMap { if case .withdraw(let link, _) = $0 { link } else { nil } }.sorted()
    }

    /// Publishes `service` on `link` and lets its settle time pass.
    func seen(_ service: DiscoveredService, on link: Int, in exchange: inout LinkExchange) -> [LinkExchange.Effect] {
        exchange.observe(.added(service), on: link, now: t0) + exchange.tick(now: later)
    }

    @Test func aServiceCrossesToEveryOtherLinkOnceWithItsFields() throws {
        var exchange = exchange()
        let txt = try TXTRecord(entries: [try TXTEntry(key: "rp", value: Array("queue".utf8))])
        let service = try Fixture.service("Office Printer", addresses: ["10.0.1.5"], txt: txt)
        #expect(exchange.observe(.added(service), on: 0, now: t0).isEmpty) // settling
        let crossed = published(exchange.tick(now: later))
        #expect(crossed.keys.sorted() == [1, 2])
        for link in [1, 2] {
            let publication = try #require(crossed[link]?.first)
            #expect(crossed[link]?.count == 1)
            #expect(publication.name.value == "Office Printer" && publication.type == service.instance.type)
            #expect(publication.port == 631 && publication.txt == txt && publication.announcement == .immediate)
            guard case .synthesized(let host, let addresses) = publication.host else { Issue.record("not synthesized"); return }
            #expect(SynthesizedHost.isSynthesized(host) && addresses == [Self.address])
        }
    }

    @Test func aWithdrawalIsWithdrawnFromEveryOtherLinkAtOnce() throws {
        var exchange = exchange()
        let service = try Self.service("Office Printer")
        _ = seen(service, on: 0, in: &exchange)
        let effects = exchange.observe(.removed(service.id), on: 0, now: later)
        #expect(withdrawn(effects) == [1, 2])
        #expect(exchange.imported(on: 1).isEmpty && exchange.imported(on: 2).isEmpty)
    }

    @Test func ourOwnPublicationsAndTheBoxsOwnServicesNeverCross() throws {
        var exchange = exchange()
        let crossed = try #require(published(seen(try Self.service("Office Printer"), on: 0, in: &exchange))[1]?.first)
        guard case .synthesized(let host, let addresses) = crossed.host else { Issue.record("not synthesized"); return }
        // Link 1 sees our publication: flagged ours, on a synthesized host. It goes nowhere.
        let echo = DiscoveredService(instance: ServiceInstance(name: crossed.name, type: crossed.type, host: host, port: crossed.port,
                                                               txt: crossed.txt, addresses: addresses), origin: [.ourOwn, .local])
        #expect(published(seen(echo, on: 1, in: &exchange)).isEmpty)
        // The router's own services are on every link already (Avahi's LOCAL flag).
        let own = try Self.service("router", type: "_ssh._tcp", host: "router.local", address: "10.0.1.1", origin: [.local])
        #expect(published(seen(own, on: 1, in: &exchange)).isEmpty)
        #expect(exchange.imported(on: 0).isEmpty && exchange.imported(on: 2).count == 1)
    }

    @Test func twoServicesOfOneNameKeepTheirNamesOnTheirOwnLinks() throws {
        var exchange = exchange()
        let staff = try Self.service("Office Printer", host: "hp.local", address: "10.0.1.5")
        let students = try Self.service("Office Printer", host: "canon.local", address: "10.0.2.5")
        _ = exchange.observe(.added(staff), on: 0, now: t0)
        _ = exchange.observe(.added(students), on: 1, now: t0)
        let crossed = published(exchange.tick(now: later))
        // Each link keeps its own printer's name; the other link's arrives with a suffix.
        #expect(crossed[0]?.map(\.name.value) == ["Office Printer (students)"])
        #expect(crossed[1]?.map(\.name.value) == ["Office Printer (staff)"])
        #expect(Set(crossed[2]?.map(\.name.value) ?? []) == ["Office Printer", "Office Printer (students)"])
    }

    @Test func anImportYieldsToAHostThatTakesItsNameLater() throws {
        var exchange = exchange()
        _ = seen(try Self.service("Office Printer", host: "hp.local"), on: 0, in: &exchange)
        let local = try Self.service("Office Printer", host: "canon.local", address: "10.0.2.5")
        let effects = exchange.observe(.added(local), on: 1, now: later)
        #expect(withdrawn(effects) == [1])
        #expect(published(effects)[1]?.map(\.name.value) == ["Office Printer (staff)"])
    }

    @Test func aOneWayRuleLetsPrintersFromStaffToStudentsAndNeverBack() throws {
        let rule = PolicyRule(.permit, type: .exact(try ServiceType("_ipp._tcp")), from: IslandSet(.name("staff")),
                              to: IslandSet(.name("students")), oneWay: true)
        var exchange = exchange(policy: Policy(rules: [rule]))
        let fromStaff = published(seen(try Self.service("Staff Printer", host: "hp.local"), on: 0, in: &exchange))
        #expect(fromStaff[1]?.map(\.name.value) == ["Staff Printer"] && fromStaff[2]?.count == 1)
        let fromStudents = published(seen(try Self.service("Student Printer", host: "canon.local", address: "10.0.2.5"),
                                          on: 1, in: &exchange))
        #expect(fromStudents[0] == nil && fromStudents[2]?.count == 1)
        let held = exchange.held(on: 0)
        #expect(held.count == 1)
        guard case .denied(let verdict)? = held.first?.1 else { Issue.record("not held by the policy"); return }
        #expect(verdict.reverse && verdict.ruleNumber == 1)
    }

    @Test func aNewPolicyWithdrawsWhatItNoLongerPermits() throws {
        var exchange = exchange()
        _ = seen(try Self.service("Office Printer"), on: 0, in: &exchange)
        let deny = PolicyRule(.deny, to: IslandSet(.name("guests")))
        let effects = exchange.setPolicy(Policy(rules: [deny]))
        #expect(withdrawn(effects) == [2])
        #expect(exchange.imported(on: 1).count == 1)
    }

    @Test func nothingIsPublishedOnALinkBeforeItsBrowseSettles() throws {
        var exchange = LinkExchange(links: Self.names)
        _ = exchange.observe(.settled, on: 0, now: t0)
        _ = exchange.observe(.settled, on: 2, now: t0)
        #expect(published(seen(try Self.service("Office Printer"), on: 0, in: &exchange)).keys.sorted() == [2])
        // Link 1's own printer of that name was in its responder's cache: it keeps the name.
        _ = exchange.observe(.added(try Self.service("Office Printer", host: "canon.local", address: "10.0.2.5")), on: 1, now: later)
        #expect(!exchange.isReady(1))
        let settled = published(exchange.observe(.settled, on: 1, now: later))
        #expect(settled.keys.sorted() == [1] && settled[1]?.map(\.name.value) == ["Office Printer (staff)"])
        #expect(exchange.isReady(1))
    }

    @Test func explainFollowsAServiceOntoEveryOtherLinkWithTheVerdictThatDecided() throws {
        let rule = PolicyRule(.permit, type: .exact(try ServiceType("_ipp._tcp")), from: IslandSet(.name("staff")),
                              to: IslandSet(.name("students")), oneWay: true)
        var exchange = exchange(policy: Policy(rules: [rule]))
        _ = seen(try Self.service("Student Printer", host: "canon.local", address: "10.0.2.5"), on: 1, in: &exchange)
        let answer = LinkExplainer.explain("Student Printer._ipp._tcp", exchange)
        #expect(answer.traces.map(\.crossed) == [false, true])
        #expect(answer.traces[0].verdict.hasPrefix("=> stops at import_policy: onto link staff: denied by rule 1"))
        #expect(answer.traces[1].verdict == "=> crosses: published on link guests as \"Student Printer\"")
        #expect(answer.summary == "1 of 2 crossings made")
        #expect(LinkExplainer.explain("_ssh._tcp", exchange).traces.isEmpty)
    }

    @Test func explainSaysALinkLedElsewhereIsCrossedThroughTheDHT() throws {
        var exchange = exchange()
        _ = seen(try Self.service("Office Printer"), on: 0, in: &exchange)
        _ = exchange.setLed(1, false, now: later)
        let answer = LinkExplainer.explain("Office Printer._ipp._tcp", exchange)
        #expect(answer.traces.map(\.crossed) == [false, true])
        #expect(answer.traces[0].verdict
            == "=> not in process: link students is led by another gateway: it crosses through the DHT, not in process")
        let dht = ExplainResponse(query: "q", role: .follower, traces: [answer.traces[1]], summary: "")
        #expect(LinkExplainer.gatewayTraces(dht, link: "staff").map(\.verdict)
            == ["link staff's gateway (follower): => crosses: published on link guests as \"Office Printer\""])
    }

    @Test func linkIslandIdsAreStableAndDistinct() {
        #expect(LinkExchange.Link.island(named: "staff") == LinkExchange.Link.island(named: "Staff"))
        #expect(LinkExchange.Link.island(named: "staff") != LinkExchange.Link.island(named: "students"))
    }

    /// Two routers that both call a link "staff" are on two physical links: two islands, or
    /// neither would import the other's services (an island never imports its own).
    @Test func sameNamedLinksOfTwoBoxesAreTwoIslands() {
        let one = NodeID(w0: 1, w1: 0, w2: 0, w3: 0), two = NodeID(w0: 2, w1: 0, w2: 0, w3: 0)
        let first = LinkExchange(links: [(name: "staff", interface: "lan0")], box: one)
        let second = LinkExchange(links: [(name: "staff", interface: "lan0")], box: two)
        #expect(first.links[0].island != second.links[0].island)
        #expect(first.links[0].island == LinkExchange(links: [(name: "Staff", interface: "eth9")], box: one).links[0].island,
                "stable for one box across restarts and renamed interfaces")
        #expect(first.links[0].island != LinkExchange.Link.island(named: "staff"))
    }

    /// A link another gateway leads leaves the exchange both ways — its services stop
    /// crossing to the other links, theirs are withdrawn from it — and comes back whole.
    @Test func aLinkLedElsewhereLeavesTheExchangeBothWaysAndComesBack() throws {
        var exchange = exchange()
        _ = seen(try Self.service("Office Printer"), on: 0, in: &exchange)
        _ = seen(try Self.service("Student Printer", host: "canon.local", address: "10.0.2.5"), on: 1, in: &exchange)
        #expect(exchange.imported(on: 1).map(\.publication.name.value) == ["Office Printer"])
        let ceded = exchange.setLed(1, false, now: later)
        #expect(withdrawn(ceded) == [0, 1, 2], "Student Printer off links 0 and 2, Office Printer off link 1")
        #expect(exchange.imported(on: 1).isEmpty && !exchange.isReady(1) && !exchange.isLed(1))
        #expect(exchange.imported(on: 0).isEmpty && exchange.imported(on: 2).map(\.publication.name.value) == ["Office Printer"])
        // While ceded, a new service on another link does not reach it, nor its own the others.
        #expect(published(seen(try Self.service("Lab Printer", host: "lab.local", address: "10.0.3.5"), on: 2, in: &exchange)).keys.sorted() == [0])
        #expect(published(seen(try Self.service("Other Printer", host: "hp.local", address: "10.0.2.6"), on: 1, in: &exchange)).isEmpty)
        let back = published(exchange.setLed(1, true, now: later))
        #expect(back[1]?.map(\.name.value).sorted() == ["Lab Printer", "Office Printer"])
        #expect(back[0]?.map(\.name.value).sorted() == ["Other Printer", "Student Printer"])
        #expect(back[2]?.map(\.name.value).sorted() == ["Other Printer", "Student Printer"])
        #expect(exchange.setLed(1, true, now: later).isEmpty, "said once")
    }

    /// A router's links start outside the exchange until their gateways lead them.
    @Test func nothingCrossesOntoALinkBeforeItIsLed() throws {
        var exchange = LinkExchange(links: Self.names, led: false)
        for link in 0..<3 { _ = exchange.observe(.settled, on: link, now: t0) }
        #expect(published(seen(try Self.service("Office Printer"), on: 0, in: &exchange)).isEmpty)
        #expect(exchange.setLed(0, true, now: later).isEmpty, "no other link is led yet")
        #expect(published(exchange.setLed(2, true, now: later)).keys.sorted() == [2])
    }

    @Test func eachLinksSiblingsAreTheOtherLedLinksIslands() {
        let a = IslandID(rawValue: 1), c = IslandID(rawValue: 3)
        let siblings = LinkExchange.siblingIslands(leading: [a, nil, c])
        #expect(siblings == [[c], [a, c], [a]])
    }
}
