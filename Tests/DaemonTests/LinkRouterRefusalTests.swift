import Daemon
import DNSSD
import Foundation
import Gateway
import LocalDomain
import Primitives
import Testing

/// Router mode: a publication avahi-daemon refuses on a link is tried again (1, 2 … s) and
/// shows in the router's snapshot meanwhile, as for an ordinary gateway (issue 18, point 5).
@Suite(.timeLimit(.minutes(1)))
struct LinkRouterRefusalTests {
    @Test func aRefusedPublicationOnALinkIsTriedAgainAndReportedMeanwhile() async throws {
        let staff = MemoryLink(), students = MemoryLink()
        let device = MemoryDomain(link: staff, hostName: try HostName("printer.local"), addresses: [try IPAddress("10.0.1.5")])
        let viewer = MemoryDomain(link: students, hostName: try HostName("laptop.local"))
        let staffSide = MemoryDomain(link: staff, hostName: try HostName("router.local"), addresses: [try IPAddress("10.0.1.1")])
        let studentsSide = MemoryDomain(link: students, hostName: try HostName("router.local"), addresses: [try IPAddress("10.0.2.1")])
        let refusing = RefusingPublications(studentsSide, refusals: 2)
        let exchange = LinkExchange(links: [(name: "staff", interface: "lan0"), (name: "students", interface: "lan1")])
        let router = LinkRouter(exchange: exchange, domains: [staffSide, refusing])
        let running = Task { await router.run() }
        defer { running.cancel() }
        let seen = Seen()
        let watching = Task { for await event in viewer.events { await seen.apply(event) } }
        defer { watching.cancel() }

        _ = try await device.publish(Publication(name: try InstanceName("Office Printer"), type: try ServiceType("_ipp._tcp"), port: 631))
        let refused = try await eventually("the refusal in the snapshot") { await router.snapshot().refused[1].first?.value }
        #expect(refused == "Too many objects")
        _ = try await eventually("the printer on the students' link after two refusals") {
            await seen.names.contains("Office Printer") ? true : nil
        }
        #expect(await router.snapshot().refused[1].isEmpty)
        let reasons = await router.snapshot().events.events.compactMap(\.reason)
        #expect(reasons.filter { $0 == "import_refused" }.count == 1)
        #expect(reasons.contains("published_on_retry"))
    }

    actor Seen {
        var names: Set<String> = []
        func apply(_ event: LocalDomainEvent) {
            if case .added(let service) = event { names.insert(service.instance.name.value) }
        }
    }

}

/// A local domain that refuses its first `refusals` publications (those `matching`), as
/// avahi-daemon does when a client has too many objects.
final class RefusingPublications: LocalDomain, @unchecked Sendable {
    private let inner: MemoryDomain
    private let lock = NSLock()
    private var refusals: Int
    private let matching: @Sendable (Publication) -> Bool

    init(_ inner: MemoryDomain, refusals: Int, matching: @escaping @Sendable (Publication) -> Bool = { _ in true }) {
        self.inner = inner
        self.refusals = refusals
        self.matching = matching
    }

    var events: AsyncStream<LocalDomainEvent> { inner.events }

    func publish(_ publication: Publication) async throws(PublishError) -> PublicationID {
        let refuse = matching(publication) && lock.withLock { () -> Bool in
            defer { refusals -= 1 }
            return refusals > 0
        }
        if refuse { throw .refused(code: -23, message: "Too many objects") }
        return try await inner.publish(publication)
    }

    func update(_ id: PublicationID, to publication: Publication) async throws(PublishError) {
        try await inner.update(id, to: publication)
    }

    func withdraw(_ id: PublicationID) async { await inner.withdraw(id) }
    func shutdown() async { await inner.shutdown() }
}
