import DNSSD
import LocalDomain
import Testing

/// The in-memory link the gateway's unit tests stand on must behave like the real one in
/// what the gateway relies on.
struct MemoryDomainTests {
    func publication(_ name: String, rule: RenameRule = .numbered, port: UInt16 = 631) throws -> Publication {
        Publication(name: try InstanceName(name), type: try ServiceType("_ipp._tcp"), port: port, renameRule: rule)
    }

    /// Events until (and including) the first one that satisfies `stop`.
    func collect(_ domain: MemoryDomain, count: Int) async -> [LocalDomainEvent] {
        var events: [LocalDomainEvent] = []
        for await event in domain.events {
            events.append(event)
            if events.count == count { break }
        }
        return events
    }

    @Test func otherHostsSeeAPublicationAndItsWithdrawal() async throws {
        let link = MemoryLink()
        let publisher = MemoryDomain(link: link, hostName: try HostName("a.local"), addresses: [try IPAddress("10.0.0.1")])
        let viewer = MemoryDomain(link: link, hostName: try HostName("b.local"))
        let id = try await publisher.publish(try publication("Printer"))
        await publisher.withdraw(id)
        let events = await collect(viewer, count: 4)
        #expect(events[0] == .connection(.running) && events[1] == .settled)
        guard case .added(let service) = events[2] else { Issue.record("expected added, got \(events[2])"); return }
        #expect(try service.instance.host.value == "a.local" && service.instance.addresses == [IPAddress("10.0.0.1")])
        #expect(service.origin.isEmpty)
        #expect(events[3] == .removed(service.id))
    }

    @Test func thePublisherSeesItsOwnServiceAsOurOwn() async throws {
        let link = MemoryLink()
        let publisher = MemoryDomain(link: link, hostName: try HostName("a.local"))
        _ = try await publisher.publish(try publication("Printer"))
        let events = await collect(publisher, count: 5)
        guard case .added(let service) = events.last else { Issue.record("expected added, got \(events)"); return }
        #expect(service.origin == [.local, .ourOwn])
    }

    @Test func aTakenNameIsRenamedByThePublishersRule() async throws {
        let link = MemoryLink()
        let first = MemoryDomain(link: link, hostName: try HostName("a.local"))
        let second = MemoryDomain(link: link, hostName: try HostName("b.local"))
        _ = try await first.publish(try publication("Printer"))
        let id = try await second.publish(try publication("printer", rule: .suffix("island-b")))
        let events = await collect(second, count: 6)
        #expect(events.contains(.publication(id, .renamed(from: try InstanceName("printer"), to: try InstanceName("printer (island-b)")))))
        #expect(events.contains(.publication(id, .established(try InstanceName("printer (island-b)")))))
    }

    @Test func lateJoinerSeesWhatIsAlreadyPublished() async throws {
        let link = MemoryLink()
        let publisher = MemoryDomain(link: link, hostName: try HostName("a.local"))
        _ = try await publisher.publish(try publication("Printer"))
        let late = MemoryDomain(link: link, hostName: try HostName("c.local"))
        let events = await collect(late, count: 3)
        #expect(events.first == .connection(.running))
        #expect(events.contains { if case .added = $0 { true } else { false } })
        #expect(events.last == .settled)
    }

    @Test func updateIsSeenAsAChangeAndScopeFiltersTypes() async throws {
        let link = MemoryLink()
        let publisher = MemoryDomain(link: link, hostName: try HostName("a.local"))
        let httpOnly = MemoryDomain(link: link, hostName: try HostName("b.local"), scope: .types([try ServiceType("_http._tcp")]))
        let viewer = MemoryDomain(link: link, hostName: try HostName("c.local"))
        let id = try await publisher.publish(try publication("Printer"))
        try await publisher.update(id, to: try publication("Printer", port: 8631))
        let events = await collect(viewer, count: 4)
        guard case .changed(let service) = events.last else { Issue.record("expected changed, got \(events)"); return }
        #expect(service.instance.port == 8631)
        await httpOnly.shutdown()
        var seen: [LocalDomainEvent] = []
        for await event in httpOnly.events { seen.append(event) }
        #expect(seen == [.connection(.running), .settled])
    }

    @Test func shutdownWithdrawsEverythingAndEndsTheStream() async throws {
        let link = MemoryLink()
        let publisher = MemoryDomain(link: link, hostName: try HostName("a.local"))
        let viewer = MemoryDomain(link: link, hostName: try HostName("b.local"))
        _ = try await publisher.publish(try publication("A"))
        _ = try await publisher.publish(try publication("B"))
        await publisher.shutdown()
        let events = await collect(viewer, count: 6)
        #expect(events.filter { if case .removed = $0 { true } else { false } }.count == 2)
        let late = try publication("C")
        await #expect(throws: PublishError.shutDown) { _ = try await publisher.publish(late) }
    }
}
