import Primitives
import Kademlia
@testable import OpenDHTRendezvous
import Testing

/// Which OpenDHT values the engine announces per slot, without a network.
struct AnnouncementsTests {
    static let network = NetworkID(name: "announcements-test")
    let key = RecordKey.make(network: Self.network, namespace: "type", name: "_ipp._tcp")
    let owner = Identity()
    let lifetime = Duration.seconds(600)

    func record(_ sequence: UInt64, tombstone: Bool = false) -> Record {
        owner.record(key: key, valueID: 1, sequence: sequence, ttl: 600, payload: tombstone ? [] : [1], tombstone: tombstone)
    }

    @Test func aWriteReplacesTheSlotsAnnouncedValueOrTombstone() {
        var announcements = Announcements()
        let now = ContinuousClock.now
        #expect(announcements.announce(record(1), openDHTID: 10, now: now, tombstoneLifetime: lifetime) == [])
        #expect(announcements.announce(record(2), openDHTID: 20, now: now, tombstoneLifetime: lifetime) == [10])
        #expect(announcements.announce(record(3, tombstone: true), openDHTID: 30, now: now, tombstoneLifetime: lifetime) == [20])
        #expect(announcements.announce(record(4), openDHTID: 40, now: now, tombstoneLifetime: lifetime) == [30],
                "a put after a removal cancels the tombstone")
    }

    @Test func anOlderWriteArrivingLateIsRefused() {
        var announcements = Announcements()
        let now = ContinuousClock.now
        _ = announcements.announce(record(5, tombstone: true), openDHTID: 50, now: now, tombstoneLifetime: lifetime)
        #expect(announcements.announce(record(4), openDHTID: 40, now: now, tombstoneLifetime: lifetime) == nil)
        #expect(announcements.slots[key]?[1]?.openDHTID == 50)
    }

    @Test func aTombstoneIsAnnouncedForOneValueLifetimeAndAValueUntilReplaced() {
        var announcements = Announcements()
        let now = ContinuousClock.now
        _ = announcements.announce(record(1, tombstone: true), openDHTID: 10, now: now, tombstoneLifetime: lifetime)
        let other = owner.record(key: key, valueID: 2, sequence: 2, ttl: 600, payload: [2])
        _ = announcements.announce(other, openDHTID: 20, now: now, tombstoneLifetime: lifetime)
        #expect(announcements.expire(now: now + .seconds(599)).isEmpty)
        let ended = announcements.expire(now: now + .seconds(600))
        #expect(ended.map(\.openDHTID) == [10])
        #expect(announcements.slots[key]?.keys.sorted() == [2])
        #expect(announcements.expire(now: now + .seconds(6_000)).isEmpty)
    }
}
