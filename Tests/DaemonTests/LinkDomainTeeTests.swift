@testable import Daemon
import DNSSD
import LocalDomain
import Synchronization
import Testing

/// A router link's domain shared by the exchange and the link's gateway (`LinkDomainTee`),
/// on the in-memory link; every wait is a poll with a deadline.
@Suite(.timeLimit(.minutes(1)))
struct LinkDomainTeeTests {
    final class Sent: Sendable {
        let packets = Mutex<[[UInt8]]>([])
        var count: Int { packets.withLock { $0.count } }
    }

    actor Seen {
        var names: Set<String> = []
        func has(_ name: String) -> Bool { names.contains(name) }
        func apply(_ event: LocalDomainEvent) {
            switch event {
            case .added(let service): names.insert(service.instance.name.value)
            case .removed(let id): names.remove(id.name.value)
            default: break
            }
        }
    }

    static func until(_ condition: @Sendable () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !(await condition()) {
            #expect(ContinuousClock.now < deadline, "condition not met within 5 s")
            guard ContinuousClock.now < deadline else { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func bothBranchesSeeTheLinkAndOnlyTheGatewaysWithdrawalsSayGoodbyeTwice() async throws {
        let link = MemoryLink()
        let router = MemoryDomain(link: link, hostName: try HostName("router.local"), addresses: [try IPAddress("10.1.0.1")])
        let device = MemoryDomain(link: link, hostName: try HostName("printer.local"), addresses: [try IPAddress("10.1.0.50")])
        let sent = Sent()
        let tee = LinkDomainTee(router, goodbyes: [nil, { bytes in sent.packets.withLock { $0.append(bytes) } }])
        let running = Task { await tee.run() }
        defer { running.cancel() }
        let seen = [Seen(), Seen()]
        let readers = (0..<2).map { index in Task { for await event in tee.branches[index].events { await seen[index].apply(event) } } }
        defer { for reader in readers { reader.cancel() } }

        _ = try await device.publish(Publication(name: try InstanceName("Office Printer"), type: try ServiceType("_ipp._tcp"), port: 631))
        try await Self.until {
            let first = await seen[0].has("Office Printer"), second = await seen[1].has("Office Printer")
            return first && second
        }

        // The exchange's withdrawal: no goodbye of the tee's (the exchange says its own).
        let exchanged = try await tee.branches[0].publish(
            Publication(name: try InstanceName("Guest Screen"), type: try ServiceType("_ipp._tcp"), port: 632))
        await tee.branches[0].withdraw(exchanged)
        // The gateway's: its PTR goodbye at once, and again a second later.
        let imported = try await tee.branches[1].publish(
            Publication(name: try InstanceName("Lab Printer"), type: try ServiceType("_ipp._tcp"), port: 633))
        await tee.branches[1].withdraw(imported)
        #expect(sent.count == 1)
        let goodbye = MDNSGoodbyes.packet(for: ServiceID(name: try InstanceName("Lab Printer"), type: try ServiceType("_ipp._tcp")))
        #expect(sent.packets.withLock { $0 } == [goodbye])
        try await Self.until { sent.count == 2 }
        #expect(sent.packets.withLock { $0 } == [goodbye, goodbye])

        // A branch's shutdown ends its events only; the link's domain keeps publishing.
        await tee.branches[1].shutdown()
        _ = try await tee.branches[0].publish(
            Publication(name: try InstanceName("Still Here"), type: try ServiceType("_ipp._tcp"), port: 634))
        try await Self.until { await seen[0].has("Still Here") }
    }
}
