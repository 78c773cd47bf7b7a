@testable import Avahi
import DNSSD
import LocalDomain
import Testing

/// When failed resolvers are made again, on instants chosen by the test.
struct ResolverRetriesTests {
    let id = ServiceID(name: try! InstanceName("Late Host"), type: try! ServiceType("_zres._tcp"))
    let eth0v4 = Sighting(interface: 2, family: .ipv4)
    let t0 = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant { t0 + .seconds(seconds) }

    @Test func theBackoffDoublesFromOneSecondAndStaysAtThirty() {
        let delays = (1...7).map { ResolverRetries.delay(afterAttempts: $0) }
        #expect(delays == [1, 2, 4, 8, 16, 30, 30].map { Duration.seconds($0) })
    }

    @Test func aFailedResolverIsDueAfterItsBackoffAndWaitsWhileItRuns() {
        var retries = ResolverRetries()
        let key = ResolverKey(id: id, sighting: eth0v4, family: .ipv4)
        retries.failed(key, refused: false, now: at(0))
        #expect(retries.due(now: at(0)).isEmpty)
        #expect(retries.due(now: at(1)) == [key])
        retries.started(key, now: at(1))
        #expect(retries.due(now: at(5)).isEmpty, "its new resolver runs: a failure sets the next time")
        retries.failed(key, refused: false, now: at(6))
        #expect(retries.attempts(key) == 2)
        #expect(retries.nextDue == at(8))
        let pulled = retries.capacityFreed(now: at(7))
        #expect(!pulled && retries.nextDue == at(8), "it timed out: room is not what it lacks")
        retries.forget(key)
        #expect(retries.nextDue == nil)
    }

    /// Freed room brings forward only resolvers avahi-daemon refused and that are not running
    /// again already (one made again frees its old object: it must not call itself again).
    @Test func freedRoomMakesRefusedResolversDueAtOnceButNotOneAlreadyRunning() {
        var retries = ResolverRetries()
        let first = ResolverKey(id: id, sighting: eth0v4, family: .ipv4)
        let second = ResolverKey(id: id, sighting: eth0v4, family: .ipv6)
        for _ in 0..<4 { retries.failed(first, refused: true, now: at(0)) }
        retries.failed(second, refused: true, now: at(0))
        #expect(retries.due(now: at(1)) == [second])
        retries.started(second, now: at(1))
        let pulled = retries.capacityFreed(now: at(2))
        #expect(pulled)
        #expect(retries.due(now: at(2)) == [first], "the running one stays put")
        retries.started(first, now: at(2))
        let again = retries.capacityFreed(now: at(2))
        #expect(!again)
    }

    @Test func onlyAServiceWithNoResolutionOnTheInterfaceIsRetried() throws {
        var table = BrowseTable()
        let v4 = ResolverKey(id: id, sighting: eth0v4, family: .ipv4)
        let v6 = ResolverKey(id: id, sighting: eth0v4, family: .ipv6)
        _ = table.sightingAdded(id, eth0v4, origin: [])
        #expect(!table.needsResolverRetry(v4), "not failed")
        _ = table.resolveFailed(v4)
        _ = table.resolveFailed(v6)
        #expect(table.needsResolverRetry(v4) && table.needsResolverRetry(v6))
        // The IPv4 resolver answers: the IPv6 one timing out is an IPv4-only host, not worth retrying.
        _ = table.resolved(v4, Resolution(host: try HostName("late-host.local"), port: 9000, txt: .empty, droppedTXT: [],
                                          address: try IPAddress("10.0.2.18")))
        #expect(!table.needsResolverRetry(v6))
        // Gone from the link: nothing to retry.
        _ = table.sightingRemoved(id, eth0v4)
        #expect(!table.needsResolverRetry(v4))
    }
}
