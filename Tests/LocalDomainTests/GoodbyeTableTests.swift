import DNSSD
import LocalDomain
import Testing

/// Goodbyes read off the wire and the responder's own reports, folded so the gateway hears
/// of a removal once, as early as possible, and takes back a goodbye nobody confirms.
struct GoodbyeTableTests {
    func printer(port: UInt16 = 631) throws -> DiscoveredService {
        DiscoveredService(instance: ServiceInstance(name: try InstanceName("Printer"), type: try ServiceType("_ipp._tcp"),
                                                    host: try HostName("printer.local"), port: port,
                                                    addresses: [try IPAddress("10.0.0.5")]))
    }

    @Test func aGoodbyeRemovesAtOnceAndTheResponderLaterRemovalIsSwallowed() throws {
        var table = GoodbyeTable()
        let service = try printer()
        #expect(table.responder(.added(service)) == [.added(service)])
        #expect(table.goodbye(service.id, now: .seconds(1)) == [.removed(service.id)])
        #expect(table.nextDeadline == .seconds(3))
        #expect(table.responder(.removed(service.id)).isEmpty, "removed once, on the goodbye")
        #expect(table.nextDeadline == nil)
        #expect(table.tick(now: .seconds(10)).isEmpty)
    }

    /// A router (issue 16): avahi-daemon never confirms a goodbye for records it also
    /// publishes on another interface, so the goodbye stands until the service is announced.
    @Test func withoutAConfirmationTimeAGoodbyeStandsUntilTheServiceIsAnnouncedAgain() throws {
        var table = GoodbyeTable(confirmation: nil)
        let service = try printer()
        _ = table.responder(.added(service))
        #expect(table.announced(service.id).isEmpty, "announced while present: nothing to say")
        #expect(table.goodbye(service.id, now: .seconds(1)) == [.removed(service.id)])
        #expect(table.nextDeadline == nil)
        #expect(table.tick(now: .seconds(3_600)).isEmpty, "never taken back by time")
        let stale = try printer(port: 632)
        #expect(table.responder(.changed(stale)).isEmpty, "the responder's cache changing is no return")
        #expect(table.announced(service.id) == [.added(stale)], "heard again: it is back")
        #expect(table.goodbye(service.id, now: .seconds(3_601)) == [.removed(service.id)])
    }

    @Test func aGoodbyeTheResponderNeverConfirmsIsTakenBackAfterTheConfirmationTime() throws {
        var table = GoodbyeTable(confirmation: .seconds(2))
        let service = try printer()
        _ = table.responder(.added(service))
        _ = table.goodbye(service.id, now: .seconds(5))
        #expect(table.tick(now: .milliseconds(6_999)).isEmpty)
        #expect(table.tick(now: .seconds(7)) == [.added(service)], "still on the link: it comes back")
        // Back to normal: a later removal by the responder passes.
        #expect(table.responder(.removed(service.id)) == [.removed(service.id)])
    }

    @Test func aServiceBackBeforeTheResponderNoticedIsAddedAgainWithItsNewRecords() throws {
        var table = GoodbyeTable()
        let service = try printer()
        _ = table.responder(.added(service))
        _ = table.goodbye(service.id, now: .zero)
        let moved = try printer(port: 632)
        #expect(table.responder(.changed(moved)) == [.added(moved)], "the gateway removed it, so it is new again")
        #expect(table.nextDeadline == nil)
    }

    @Test func goodbyesForUnknownOrAlreadyRemovedServicesChangeNothing() throws {
        var table = GoodbyeTable()
        let service = try printer()
        #expect(table.goodbye(service.id, now: .zero).isEmpty)
        _ = table.responder(.added(service))
        _ = table.goodbye(service.id, now: .zero)
        #expect(table.goodbye(service.id, now: .seconds(1)).isEmpty, "one removal per goodbye burst")
        #expect(table.responder(.settled) == [.settled])
    }
}
