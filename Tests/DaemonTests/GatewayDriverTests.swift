import Daemon
import Foundation
import DNSSD
import Gateway
import GatewayReports
import Island
import LocalDomain
import Primitives
import Rendezvous
import Testing

/// The driver carrying out real effects on the in-memory link, rendezvous and network, on
/// real time with short election timers; every wait is a poll with a deadline.
@Suite(.timeLimit(.minutes(1)))
struct GatewayDriverTests {
    struct Island {
        let link = MemoryLink()
        let device: MemoryDomain
        let viewer: MemoryDomain

        init(_ number: Int) throws {
            device = MemoryDomain(link: link, hostName: try HostName("device\(number).local"),
                                  addresses: [try IPAddress("10.\(number).0.50")])
            viewer = MemoryDomain(link: link, hostName: try HostName("viewer\(number).local"))
        }
    }

    static func gateway(_ index: Int, on island: Island, mesh: MemoryMesh, network: MemoryDatagramNetwork,
                        refusingPuts: Int = 0, refusingAdverts: Int = 0) throws -> (GatewayDriver, MemoryDomain) {
        let id = NodeID(w0: UInt64(index), w1: 1, w2: 2, w3: 3)
        var settings = GatewayMachine.Settings(id: id, network: NetworkID(rawValue: 9), priority: 100, port: 7400,
                                               islandName: "island-\(index)", seed: UInt64(index))
        settings.election.heartbeatInterval = .milliseconds(100)
        settings.election.listenWindow = .milliseconds(300)
        let machine = GatewayMachine(settings: settings)
        let domain = MemoryDomain(link: island.link, hostName: try HostName("gw\(index).local"),
                                  addresses: [try IPAddress("10.\(index).0.1")])
        let link = network.link(at: Endpoint(ipv4: 10, UInt8(index), 0, 1, port: 7400))
        let memory = MemoryRendezvous(owner: id, mesh: mesh)
        let rendezvous: any Rendezvous = refusingPuts > 0 ? RefusingRendezvous(memory, refusals: refusingPuts) : memory
        let local: any LocalDomain = refusingAdverts > 0
            ? RefusingPublications(domain, refusals: refusingAdverts) { $0.type == GatewayAdvert.serviceType } : domain
        let driver = GatewayDriver(machine: machine, domain: local, rendezvous: rendezvous, link: link)
        return (driver, domain)
    }

    /// What `viewer` currently sees, by name.
    actor View {
        var services: [String: ServiceInstance] = [:]
        func apply(_ event: LocalDomainEvent) {
            switch event {
            case .added(let service), .changed(let service): services[service.instance.name.value] = service.instance
            case .removed(let id): services[id.name.value] = nil
            default: break
            }
        }
    }

    @Test func servicePublishedOnOneIslandIsPublishedOnTheOtherAndWithdrawnWithIt() async throws {
        let mesh = MemoryMesh(), network = MemoryDatagramNetwork()
        let north = try Island(1), south = try Island(2)
        let (gatewayNorth, _) = try Self.gateway(1, on: north, mesh: mesh, network: network)
        let (gatewaySouth, _) = try Self.gateway(2, on: south, mesh: mesh, network: network)
        let view = View()
        let watching = Task { for await event in south.viewer.events { await view.apply(event) } }
        defer { watching.cancel() }
        let runningNorth = Task { await gatewayNorth.run() }
        let runningSouth = Task { await gatewaySouth.run() }
        defer { runningNorth.cancel(); runningSouth.cancel() }

        let txt = try TXTRecord(entries: [try TXTEntry(key: "bin", value: [0, 255]), try TXTEntry(key: "flag", value: nil)])
        let id = try await north.device.publish(Publication(name: try InstanceName("Office Printer"),
                                                            type: try ServiceType("_ipp._tcp"), port: 631, txt: txt))
        let imported = try await eventually("printer imported on south") { await view.services["Office Printer"] }
        #expect(imported.txt == txt && imported.port == 631)
        #expect(imported.addresses == [try IPAddress("10.1.0.50")])
        #expect(SynthesizedHost.isSynthesized(imported.host))

        await north.device.withdraw(id)
        _ = try await eventually("printer withdrawn on south") { await view.services["Office Printer"] == nil ? true : nil }

        // Stopping a driver withdraws what it published (goodbyes) and removes what it exported.
        _ = try await north.device.publish(Publication(name: try InstanceName("Scanner"), type: try ServiceType("_uscan._tcp"), port: 80))
        _ = try await eventually("scanner imported") { await view.services["Scanner"] }
        runningSouth.cancel()
        await runningSouth.value
        _ = try await eventually("goodbye for the scanner") { await view.services["Scanner"] == nil ? true : nil }
        runningNorth.cancel()
        await runningNorth.value
        #expect(mesh.allValues.isEmpty) // north removed its exports and directory entry on the way out
    }

    /// A put refused for a moment (as OpenDHT does after a link flap, knowing no node to store
    /// at) is tried again at once rather than at the next republish, minutes later.
    @Test func aPutThatWasNotStoredIsTriedAgainAndTheServiceCrosses() async throws {
        let mesh = MemoryMesh(), network = MemoryDatagramNetwork()
        let north = try Island(1), south = try Island(2)
        let (gatewayNorth, _) = try Self.gateway(1, on: north, mesh: mesh, network: network, refusingPuts: 4)
        let (gatewaySouth, _) = try Self.gateway(2, on: south, mesh: mesh, network: network)
        let view = View()
        let watching = Task { for await event in south.viewer.events { await view.apply(event) } }
        defer { watching.cancel() }
        let runningNorth = Task { await gatewayNorth.run() }
        let runningSouth = Task { await gatewaySouth.run() }
        defer { runningNorth.cancel(); runningSouth.cancel() }

        _ = try await north.device.publish(Publication(name: try InstanceName("Office Printer"),
                                                       type: try ServiceType("_ipp._tcp"), port: 631))
        _ = try await eventually("printer imported on south after two refused puts") { await view.services["Office Printer"] }
        let failures = await gatewayNorth.snapshot().events.events.filter { $0.reason == "put_failed" }
        #expect(!failures.isEmpty)
        #expect(Set(failures.map(\.subject)).count == failures.count) // each value's failure said once, not at every retry
    }

    /// An advert avahi-daemon refused is tried again (1, 2 … s): without it the link's other
    /// gateways never find this one. Health says so meanwhile.
    @Test func aRefusedAdvertIsTriedAgainAndHealthSaysSoMeanwhile() async throws {
        let mesh = MemoryMesh(), network = MemoryDatagramNetwork()
        let north = try Island(1)
        let (gateway, _) = try Self.gateway(1, on: north, mesh: mesh, network: network, refusingAdverts: 2)
        let running = Task { await gateway.run() }
        defer { running.cancel() }
        let refusal = try await eventually("the advert refused") { await gateway.snapshot().advertRefusal }
        #expect(refusal.contains("Too many objects"))
        let health = StatusReport.status(await gateway.snapshot().view, stats: RendezvousStats(engine: "memory"), network: "z2z",
                                         uptime: 1, advertRefusal: refusal).health
        #expect(health.state == .degraded && health.reasons.contains { $0.contains("refuses this gateway's advert") })
        let browser = View()
        let watching = Task { for await event in north.viewer.events { await browser.apply(event) } }
        defer { watching.cancel() }
        _ = try await eventually("the advert on the link after two refusals") {
            await browser.services.keys.contains { $0.hasPrefix("z2z gateway") } ? true : nil
        }
        #expect(await gateway.snapshot().advertRefusal == nil)
        let events = await gateway.snapshot().events.events.compactMap(\.reason)
        #expect(events.filter { $0 == "advert_refused" }.count == 1)
        #expect(events.contains("advert_published_on_retry"))
    }

}

/// A rendezvous whose first `refusals` puts fail with "not stored", then works.
final class RefusingRendezvous: Rendezvous, @unchecked Sendable {
    private let inner: MemoryRendezvous
    private let lock = NSLock()
    private var refusals: Int

    init(_ inner: MemoryRendezvous, refusals: Int) {
        self.inner = inner
        self.refusals = refusals
    }

    func put(key: RecordKey, valueID: UInt64, payload: [UInt8]) async throws(RendezvousError) {
        let refuse = lock.withLock { () -> Bool in
            defer { refusals -= 1 }
            return refusals > 0
        }
        if refuse { throw .notStored("no node stored it (test)") }
        try await inner.put(key: key, valueID: valueID, payload: payload)
    }

    func join() async { await inner.join() }
    func leave() async { await inner.leave() }
    func remove(key: RecordKey, valueID: UInt64) async throws(RendezvousError) { try await inner.remove(key: key, valueID: valueID) }
    func get(key: RecordKey) async throws(RendezvousError) -> [RendezvousValue] { try await inner.get(key: key) }
    func subscribe(key: RecordKey) async -> AsyncStream<RendezvousChange> { await inner.subscribe(key: key) }
    func unsubscribe(key: RecordKey) async { await inner.unsubscribe(key: key) }
    func stats() async -> RendezvousStats { await inner.stats() }
}
