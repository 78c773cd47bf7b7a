@testable import Avahi
import DNSSD
import LocalDomain
import Testing

/// The merge rules of `BrowseTable`, driven by hand like Avahi's callbacks would.
struct BrowseTableTests {
    let id = ServiceID(name: try! InstanceName("Lab Printer"), type: try! ServiceType("_ipp._tcp"))
    let eth0v4 = Sighting(interface: 2, family: .ipv4)
    let eth0v6 = Sighting(interface: 2, family: .ipv6)
    let eth1v4 = Sighting(interface: 3, family: .ipv4)

    func resolution(port: UInt16 = 631, address: String?, txt: TXTRecord = .empty) throws -> Resolution {
        Resolution(host: try HostName("printer.local"), port: port, txt: txt, droppedTXT: [],
                   address: try address.map { try IPAddress($0) })
    }

    func emitted(_ effects: [BrowseTable.Effect]) -> [LocalDomainEvent] {
        effects.compactMap { if case .emit(let event) = $0 { event } else { nil } }
    }

    func started(_ effects: [BrowseTable.Effect]) -> Set<ResolverKey> {
        Set(effects.compactMap { if case .startResolver(let key) = $0 { key } else { nil } })
    }

    func stopped(_ effects: [BrowseTable.Effect]) -> Set<ResolverKey> {
        Set(effects.compactMap { if case .stopResolver(let key) = $0 { key } else { nil } })
    }

    func watches(_ effects: [BrowseTable.Effect]) -> (started: [HostWatch], stopped: [HostWatch]) {
        (effects.compactMap { if case .startHostWatch(let watch) = $0 { watch } else { nil } },
         effects.compactMap { if case .stopHostWatch(let watch) = $0 { watch } else { nil } })
    }

    @Test func firstSightingStartsOneResolverPerAddressFamilyAndEmitsNothingYet() {
        var table = BrowseTable()
        let effects = table.sightingAdded(id, eth0v4, origin: [])
        #expect(started(effects) == [ResolverKey(id: id, sighting: eth0v4, family: .ipv4),
                                     ResolverKey(id: id, sighting: eth0v4, family: .ipv6)])
        #expect(emitted(effects).isEmpty)
        #expect(table.pendingResolutions == 1)
    }

    @Test func secondProtocolOnTheSameInterfaceStartsNoMoreResolvers() {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        let effects = table.sightingAdded(id, eth0v6, origin: [])
        #expect(started(effects).isEmpty)
    }

    @Test func ipv4SightingTakesOverResolvingFromAnIPv6One() {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v6, origin: [])
        let effects = table.sightingAdded(id, eth0v4, origin: [])
        #expect(stopped(effects).count == 2)
        #expect(started(effects).allSatisfy { $0.sighting == eth0v4 })
    }

    @Test func firstResolutionIsAddedAndAddressesOfBothFamiliesAreMerged() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [.local])
        let added = emitted(table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv4),
                                           try resolution(address: "10.0.1.5")))
        guard case .added(let first)? = added.first else { Issue.record("expected .added, got \(added)"); return }
        #expect(first.instance.addresses == [try IPAddress("10.0.1.5")])
        #expect(first.origin == [.local])
        #expect(table.pendingResolutions == 0)

        let changed = emitted(table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv6),
                                             try resolution(address: "fd00::5")))
        guard case .changed(let merged)? = changed.first else { Issue.record("expected .changed, got \(changed)"); return }
        #expect(merged.instance.addresses == [try IPAddress("10.0.1.5"), try IPAddress("fd00::5")])
        #expect(merged.linkAddresses.allSatisfy { $0.interface == 2 })
    }

    @Test func identicalResolutionEmitsNoChange() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        let key = ResolverKey(id: id, sighting: eth0v4, family: .ipv4)
        _ = table.resolved(key, try resolution(address: "10.0.1.5"))
        #expect(emitted(table.resolved(key, try resolution(address: "10.0.1.5"))).isEmpty)
    }

    @Test func newerResolutionDecidesPortAndTXT() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        _ = table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv4), try resolution(address: "10.0.1.5"))
        let txt = try TXTRecord(["rp": "ipp/print"])
        let events = emitted(table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv6),
                                            try resolution(port: 8631, address: "fd00::5", txt: txt)))
        guard case .changed(let service)? = events.first else { Issue.record("expected .changed"); return }
        #expect(service.instance.port == 8631)
        #expect(service.instance.txt == txt)
    }

    @Test func serviceIsRemovedOnlyWhenItsLastSightingGoes() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        _ = table.sightingAdded(id, eth0v6, origin: [])
        _ = table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv4), try resolution(address: "10.0.1.5"))
        let first = table.sightingRemoved(id, eth0v4)
        #expect(!emitted(first).contains(.removed(id)))
        #expect(started(first).allSatisfy { $0.sighting == eth0v6 }) // resolving moves to the survivor
        #expect(table.service(id)?.instance.addresses == [try IPAddress("10.0.1.5")]) // no flap meanwhile
        #expect(emitted(table.sightingRemoved(id, eth0v6)) == [.removed(id)])
        #expect(table.count == 0)
    }

    @Test func unresolvedServiceLeavesWithoutARemovalEvent() {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        let effects = table.sightingRemoved(id, eth0v4)
        #expect(emitted(effects).isEmpty)
        #expect(stopped(effects).count == 2)
    }

    @Test func lateResultOfAStoppedResolverIsIgnored() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v6, origin: [])
        _ = table.sightingAdded(id, eth0v4, origin: []) // v6 resolvers stopped
        let late = table.resolved(ResolverKey(id: id, sighting: eth0v6, family: .ipv4), try resolution(address: "10.0.1.5"))
        #expect(late.isEmpty)
    }

    @Test func addressesFromTwoInterfacesAreKeptWithTheirInterface() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        _ = table.sightingAdded(id, eth1v4, origin: [])
        _ = table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv4), try resolution(address: "10.0.1.5"))
        _ = table.resolved(ResolverKey(id: id, sighting: eth1v4, family: .ipv4), try resolution(address: "10.0.9.5"))
        let service = try #require(table.service(id))
        #expect(service.linkAddresses == [LinkAddress(interface: 2, address: try IPAddress("10.0.1.5")),
                                          LinkAddress(interface: 3, address: try IPAddress("10.0.9.5"))])
        // Losing eth1 drops only its address.
        let events = emitted(table.sightingRemoved(id, eth1v4))
        guard case .changed(let after)? = events.first else { Issue.record("expected .changed"); return }
        #expect(after.instance.addresses == [try IPAddress("10.0.1.5")])
    }

    @Test func failedResolversStopCountingAsPending() {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        _ = table.resolveFailed(ResolverKey(id: id, sighting: eth0v4, family: .ipv6))
        #expect(table.pendingResolutions == 1)
        _ = table.resolveFailed(ResolverKey(id: id, sighting: eth0v4, family: .ipv4))
        #expect(table.pendingResolutions == 0)
    }

    @Test func reconnectKeepsServicesThatComeBackAndSweepsTheRest() throws {
        let other = ServiceID(name: try InstanceName("Gone"), type: try ServiceType("_ipp._tcp"))
        var table = BrowseTable()
        for service in [id, other] {
            _ = table.sightingAdded(service, eth0v4, origin: [])
            _ = table.resolved(ResolverKey(id: service, sighting: eth0v4, family: .ipv4), try resolution(address: "10.0.1.5"))
        }
        table.disconnected()
        let back = table.sightingAdded(id, eth0v4, origin: [])
        #expect(started(back).count == 2)
        #expect(emitted(table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv4),
                                       try resolution(address: "10.0.1.5"))).isEmpty) // unchanged: no event
        #expect(emitted(table.sweepStale()) == [.removed(other)])
        #expect(table.service(id) != nil)
    }

    // MARK: every address of the host (issue 15)

    @Test func theFirstResolutionWatchesTheHostItNamesOnItsInterface() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        let effects = table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv4), try resolution(address: "10.0.1.5"))
        #expect(watches(effects).started == [HostWatch(interface: 2, host: try HostName("printer.local"))])
        let again = table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv6), try resolution(address: "fd00::5"))
        #expect(watches(again).started.isEmpty, "one watch per host and interface")
    }

    @Test func aHostResolvedToItsLinkLocalAliasGainsItsRoutableAddressFromItsRecords() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        _ = table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv4), try resolution(address: "169.254.1.12"))
        #expect(table.service(id)?.instance.routableAddresses == [])
        let watch = HostWatch(interface: 2, host: try HostName("printer.local"))
        _ = table.hostAddress(watch, try IPAddress("169.254.1.12"), over: .ipv4, added: true)
        let events = emitted(table.hostAddress(watch, try IPAddress("10.0.1.12"), over: .ipv4, added: true))
        guard case .changed(let service)? = events.first else { Issue.record("expected .changed, got \(events)"); return }
        #expect(service.instance.addresses.map(\.description) == ["10.0.1.12", "169.254.1.12"])
        #expect(service.instance.routableAddresses.map(\.description) == ["10.0.1.12"])
        #expect(service.linkAddresses.allSatisfy { $0.interface == 2 })
    }

    @Test func everyAddressRecordOfTheHostIsMergedAndOneThatGoesLeaves() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        _ = table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv4), try resolution(address: "10.0.1.12"))
        _ = table.resolved(ResolverKey(id: id, sighting: eth0v4, family: .ipv6), try resolution(address: "fd00::12"))
        let watch = HostWatch(interface: 2, host: try HostName("printer.local"))
        for text in ["10.0.1.12", "fd00::12", "2001:db8::12", "fe80::12"] {
            _ = table.hostAddress(watch, try IPAddress(text), over: .ipv6, added: true)
        }
        #expect(table.service(id)?.instance.addresses.map(\.description) == ["10.0.1.12", "2001:db8::12", "fd00::12", "fe80::12"])
        let events = emitted(table.hostAddress(watch, try IPAddress("2001:db8::12"), over: .ipv6, added: false))
        guard case .changed(let service)? = events.first else { Issue.record("expected .changed, got \(events)"); return }
        #expect(service.instance.addresses.map(\.description) == ["10.0.1.12", "fd00::12", "fe80::12"])
        // The resolvers' own addresses stay even when a record browser says they went.
        _ = table.hostAddress(watch, try IPAddress("fd00::12"), over: .ipv6, added: false)
        #expect(table.service(id)?.instance.addresses.contains(try IPAddress("fd00::12")) == true)
    }

    @Test func servicesOnOneHostShareItsWatchAndTheLastToGoStopsIt() throws {
        let scanner = ServiceID(name: try InstanceName("Lab Scanner"), type: try ServiceType("_uscan._tcp"))
        let watch = HostWatch(interface: 2, host: try HostName("printer.local"))
        var table = BrowseTable()
        for service in [id, scanner] {
            _ = table.sightingAdded(service, eth0v4, origin: [])
            _ = table.resolved(ResolverKey(id: service, sighting: eth0v4, family: .ipv4), try resolution(address: "10.0.1.5"))
        }
        #expect(table.hostWatches == 1)
        let events = emitted(table.hostAddress(watch, try IPAddress("fd00::5"), over: .ipv4, added: true))
        #expect(events.count == 2, "both services change: \(events)")
        #expect(watches(table.sightingRemoved(id, eth0v4)).stopped.isEmpty)
        #expect(watches(table.sightingRemoved(scanner, eth0v4)).stopped == [watch])
        #expect(table.hostWatches == 0)
    }

    @Test func aServiceThatMovesToAnotherHostWatchesTheNewHostInstead() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        let key = ResolverKey(id: id, sighting: eth0v4, family: .ipv4)
        _ = table.resolved(key, try resolution(address: "10.0.1.5"))
        let moved = Resolution(host: try HostName("spare.local"), port: 631, txt: .empty, droppedTXT: [],
                               address: try IPAddress("10.0.1.6"))
        let effects = watches(table.resolved(key, moved))
        #expect(effects.started == [HostWatch(interface: 2, host: try HostName("spare.local"))])
        #expect(effects.stopped == [HostWatch(interface: 2, host: try HostName("printer.local"))])
    }

    @Test func losingTheLastSightingOnAnInterfaceStopsItsWatch() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        _ = table.sightingAdded(id, eth1v4, origin: [])
        _ = table.resolved(ResolverKey(id: id, sighting: eth1v4, family: .ipv4), try resolution(address: "10.0.9.5"))
        let effects = watches(table.sightingRemoved(id, eth1v4))
        #expect(effects.stopped == [HostWatch(interface: 3, host: try HostName("printer.local"))])
    }

    @Test func aReconnectKeepsTheHostsAddressesUntilTheSweep() throws {
        var table = BrowseTable()
        let key = ResolverKey(id: id, sighting: eth0v4, family: .ipv4)
        let watch = HostWatch(interface: 2, host: try HostName("printer.local"))
        _ = table.sightingAdded(id, eth0v4, origin: [])
        _ = table.resolved(key, try resolution(address: "10.0.1.5"))
        _ = table.hostAddress(watch, try IPAddress("fd00::5"), over: .ipv4, added: true)
        table.disconnected()
        _ = table.sightingAdded(id, eth0v4, origin: [])
        let back = table.resolved(key, try resolution(address: "10.0.1.5"))
        #expect(watches(back).started == [watch])
        #expect(emitted(back).isEmpty, "unchanged: the watch's addresses are kept meanwhile")
        let swept = emitted(table.sweepStale())
        guard case .changed(let service)? = swept.first else { Issue.record("expected .changed, got \(swept)"); return }
        #expect(service.instance.addresses.map(\.description) == ["10.0.1.5"])
    }
}
