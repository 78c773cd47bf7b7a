@testable import Avahi
import DNSSD
import LocalDomain
import Testing

/// `.onChange` upkeep (router mode): resolve once, pause host watches, and resolve or watch
/// again only when a record heard on the link differs. Driven by hand like Avahi's
/// callbacks and the listener would.
struct ResolutionUpkeepTests {
    let id = ServiceID(name: try! InstanceName("Lab Printer"), type: try! ServiceType("_ipp._tcp"))
    let sighting = Sighting(interface: 2, family: .ipv4)
    var watch: HostWatch { HostWatch(interface: 2, host: try! HostName("printer.local")) }
    var keys: Set<ResolverKey> { Set(AddressFamily.allCases.map { ResolverKey(id: id, sighting: sighting, family: $0) }) }

    func resolution(port: UInt16 = 631, txt: TXTRecord = .empty, host: String = "printer.local") throws -> Resolution {
        Resolution(host: try HostName(host), port: port, txt: txt, droppedTXT: [], address: try IPAddress("10.0.1.5"))
    }

    func started(_ effects: [BrowseTable.Effect]) -> Set<ResolverKey> {
        Set(effects.compactMap { if case .startResolver(let key) = $0 { key } else { nil } })
    }

    func stopped(_ effects: [BrowseTable.Effect]) -> Set<ResolverKey> {
        Set(effects.compactMap { if case .stopResolver(let key) = $0 { key } else { nil } })
    }

    func emitted(_ effects: [BrowseTable.Effect]) -> [LocalDomainEvent] {
        effects.compactMap { if case .emit(let event) = $0 { event } else { nil } }
    }

    func labels(_ text: String) -> [[UInt8]] { text.split(separator: ".").map { Array($0.utf8) } }

    func srv(port: UInt16, target: String = "printer.local", ttl: UInt32 = 120) -> MDNSResponse.Record {
        MDNSResponse.Record(owner: labels("Lab Printer._ipp._tcp.local"), ttl: ttl, data: .srv(port: port, target: labels(target)))
    }

    func txt(_ strings: [String], ttl: UInt32 = 4500) -> MDNSResponse.Record {
        MDNSResponse.Record(owner: labels("Lab Printer._ipp._tcp.local"), ttl: ttl, data: .txt(strings.map { Array($0.utf8) }))
    }

    func address(_ text: String, ttl: UInt32 = 120, host: String = "Printer.local") throws -> MDNSResponse.Record {
        MDNSResponse.Record(owner: labels(host), ttl: ttl, data: .address(try IPAddress(text)))
    }

    /// A table under `.onChange` upkeep holding `id` resolved on interface 2 (port 631,
    /// TXT `rp=queue`), its host watched with 10.0.1.5.
    func resolvedTable() throws -> BrowseTable {
        var table = BrowseTable(upkeep: .onChange)
        _ = table.sightingAdded(id, sighting, origin: [])
        _ = table.resolved(ResolverKey(id: id, sighting: sighting, family: .ipv4),
                           try resolution(txt: TXTRecord.receiving([Array("rp=queue".utf8)]).record))
        _ = table.hostAddress(watch, try IPAddress("10.0.1.5"), over: .ipv4, added: true)
        return table
    }

    @Test func theFirstResolutionStopsBothResolversOfItsInterfaceAndIsReported() throws {
        var table = BrowseTable(upkeep: .onChange)
        #expect(started(table.sightingAdded(id, sighting, origin: [])) == keys)
        let effects = table.resolved(ResolverKey(id: id, sighting: sighting, family: .ipv6), try resolution())
        #expect(stopped(effects) == keys)
        guard case .added(let service)? = emitted(effects).first else { Issue.record("not added: \(effects)"); return }
        #expect(service.instance.port == 631)
        #expect(table.pendingResolutions == 0)
    }

    @Test func continuousUpkeepKeepsResolversRunning() throws {
        var table = BrowseTable()
        _ = table.sightingAdded(id, sighting, origin: [])
        #expect(stopped(table.resolved(ResolverKey(id: id, sighting: sighting, family: .ipv4), try resolution())).isEmpty)
    }

    @Test func recordsThatAgreeShowNothingOutOfDate() throws {
        let table = try resolvedTable()
        #expect(table.outdated(by: srv(port: 631, target: "PRINTER.local")) == nil)
        #expect(table.outdated(by: txt(["rp=queue"])) == nil)
        #expect(table.outdated(by: try address("10.0.1.5")) == nil)
        // Goodbyes of SRV and TXT are the browser's business (the PTR's goodbye withdraws).
        #expect(table.outdated(by: srv(port: 9100, ttl: 0)) == nil)
    }

    @Test func aDifferentPortHostOrTXTShowsTheServiceOutOfDate() throws {
        let table = try resolvedTable()
        #expect(table.outdated(by: srv(port: 9100)) == .service(id))
        #expect(table.outdated(by: srv(port: 631, target: "other.local")) == .service(id))
        #expect(table.outdated(by: txt(["rp=other"])) == .service(id))
    }

    @Test func recordsOfWhatIsNotResolvedShowNothing() throws {
        var table = BrowseTable(upkeep: .onChange)
        #expect(table.outdated(by: srv(port: 9100)) == nil)
        _ = table.sightingAdded(id, sighting, origin: [])
        // Its resolvers are at work: they will report it.
        #expect(table.outdated(by: srv(port: 9100)) == nil)
        #expect(table.outdated(by: try address("10.0.1.6")) == nil)
    }

    @Test func anUnseenAddressOrTheGoodbyeOfAHeldOneShowsTheHostOutOfDate() throws {
        let table = try resolvedTable()
        #expect(table.outdated(by: try address("10.0.1.6")) == .host("printer.local"))
        #expect(table.outdated(by: try address("10.0.1.5", ttl: 0)) == .host("printer.local"))
        #expect(table.outdated(by: try address("10.0.1.6", ttl: 0)) == nil)
        #expect(table.outdated(by: try address("10.0.1.6", host: "other.local")) == nil)
    }

    @Test func aFullWatchIsNotRestartedForAnAddressItWouldCutOff() throws {
        var table = try resolvedTable()
        for n in 6..<(5 + HostAddressTable.maximumAddresses) {
            _ = table.hostAddress(watch, try IPAddress("10.0.1.\(n)"), over: .ipv4, added: true)
        }
        #expect(table.outdated(by: try address("10.0.2.1")) == nil)
    }

    @Test func resolvingAgainStartsTheStoppedResolversOnceAndTheAnswerStopsThemAgain() throws {
        var table = try resolvedTable()
        #expect(started(table.resolveAgain(id)) == keys)
        #expect(started(table.resolveAgain(id)).isEmpty)
        // Its resolvers at work will report what differs.
        #expect(table.outdated(by: srv(port: 9100)) == nil)
        let effects = table.resolved(ResolverKey(id: id, sighting: sighting, family: .ipv4), try resolution(port: 9100))
        #expect(stopped(effects) == keys)
        guard case .changed(let service)? = emitted(effects).first else { Issue.record("not changed: \(effects)"); return }
        #expect(service.instance.port == 9100)
        #expect(table.outdated(by: srv(port: 9100)) == nil)
    }

    @Test func aResolverMadeAgainThatTimesOutStopsAndTheFirstAnswerStands() throws {
        var table = try resolvedTable()
        _ = table.resolveAgain(id)
        let effects = table.resolveFailed(ResolverKey(id: id, sighting: sighting, family: .ipv4))
        #expect(stopped(effects) == keys)
        #expect(table.service(id)?.instance.port == 631)
        #expect(!table.needsResolverRetry(ResolverKey(id: id, sighting: sighting, family: .ipv4)))
        // Stopped again, so a differing record makes it resolve once more.
        #expect(table.outdated(by: srv(port: 9100)) == .service(id))
    }

    @Test func aFirstResolutionThatFailsIsRetriedAsUnderContinuousUpkeep() throws {
        var table = BrowseTable(upkeep: .onChange)
        _ = table.sightingAdded(id, sighting, origin: [])
        let key = ResolverKey(id: id, sighting: sighting, family: .ipv4)
        #expect(stopped(table.resolveFailed(key)).isEmpty)
        #expect(table.needsResolverRetry(key))
    }

    @Test func aRestartedWatchDropsWhatItDoesNotSeeAgainWhenItSettles() throws {
        var table = try resolvedTable()
        // The service's resolvers read again too: the address they reported is as old.
        #expect(started(table.hostWatchRestarting(watch)) == keys)
        // Until it settles, what it saw stands.
        #expect(table.service(id)?.instance.addresses == [try IPAddress("10.0.1.5")])
        #expect(emitted(table.hostAddress(watch, try IPAddress("10.0.1.7"), over: .ipv4, added: true)).count == 1)
        var moved = try resolution()
        moved.address = try IPAddress("10.0.1.7")
        #expect(stopped(table.resolved(ResolverKey(id: id, sighting: sighting, family: .ipv4), moved)) == keys)
        let settled = emitted(table.hostWatchSettled(watch))
        guard case .changed(let service)? = settled.first else { Issue.record("not changed: \(settled)"); return }
        #expect(service.instance.addresses == [try IPAddress("10.0.1.7")])
        #expect(table.outdated(by: try address("10.0.1.5", ttl: 0)) == nil)
    }

    @Test func aRestartedWatchThatSeesTheSameAddressesChangesNothing() throws {
        var table = try resolvedTable()
        _ = table.hostWatchRestarting(watch)
        #expect(emitted(table.hostAddress(watch, try IPAddress("10.0.1.5"), over: .ipv4, added: true)).isEmpty)
        #expect(emitted(table.hostWatchSettled(watch)).isEmpty)
        #expect(table.service(id)?.instance.addresses == [try IPAddress("10.0.1.5")])
    }
}

/// When `RecordRefreshes` makes what heard records showed out of date due.
struct RecordRefreshesTests {
    let start = ContinuousClock.now
    let service = BrowseTable.Outdated.service(ServiceID(name: try! InstanceName("P"), type: try! ServiceType("_ipp._tcp")))
    let host = BrowseTable.Outdated.host("printer.local")

    @Test func aTargetIsDueAfterTheSettleAndFurtherRecordsMeanwhileChangeNothing() {
        var refreshes = RecordRefreshes()
        refreshes.heard(service, now: start)
        refreshes.heard(service, now: start + .seconds(1))
        #expect(refreshes.nextDue == start + RecordRefreshes.settle)
        #expect(refreshes.due(now: start + .seconds(1)).isEmpty)
        #expect(refreshes.due(now: start + RecordRefreshes.settle) == [service])
        #expect(refreshes.count == 0 && refreshes.nextDue == nil)
    }

    @Test func oneTargetIsMadeDueAtMostOncePerGapOthersAreNotHeldBack() {
        var refreshes = RecordRefreshes()
        refreshes.heard(service, now: start)
        let first = start + RecordRefreshes.settle
        #expect(refreshes.due(now: first) == [service])
        refreshes.heard(service, now: first)
        refreshes.heard(host, now: first)
        #expect(refreshes.due(now: first + RecordRefreshes.settle) == [host])
        #expect(refreshes.nextDue == first + RecordRefreshes.gap)
        #expect(refreshes.due(now: first + RecordRefreshes.gap) == [service])
    }

    @Test func aTargetHeardLongAfterItsLastRefreshWaitsOnlyTheSettle() {
        var refreshes = RecordRefreshes()
        refreshes.heard(service, now: start)
        _ = refreshes.due(now: start + RecordRefreshes.settle)
        let later = start + .seconds(60)
        refreshes.heard(service, now: later)
        #expect(refreshes.nextDue == later + RecordRefreshes.settle)
    }

    @Test func aResetForgetsPendingTargetsAndGaps() {
        var refreshes = RecordRefreshes()
        refreshes.heard(service, now: start)
        _ = refreshes.due(now: start + RecordRefreshes.settle)
        refreshes.heard(host, now: start + RecordRefreshes.settle)
        refreshes.reset()
        #expect(refreshes.nextDue == nil)
        refreshes.heard(service, now: start + .seconds(2))
        #expect(refreshes.nextDue == start + .seconds(2) + RecordRefreshes.settle)
    }
}
