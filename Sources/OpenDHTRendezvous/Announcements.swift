import Kademlia
import Primitives

/// Which OpenDHT value each of our slots is announced under: OpenDHT cannot replace an
/// unsigned value in place, so every write of ours is a new OpenDHT value put permanently,
/// and the one it replaces (a value or a tombstone of the same slot) has its permanent put
/// cancelled so its copies expire. A tombstone stays announced for one value lifetime, long
/// enough to outlive the copies it hides, and is then cancelled too (`expire`).
///
/// A write older than the slot's announced one is refused: two writes of a slot can reach
/// the engine out of order (a republish racing a removal), and letting the older one cancel
/// the newer would bring a removed value back once the tombstone's copies expired.
struct Announcements {
    struct Announcement: Hashable {
        var openDHTID: UInt64
        var sequence: UInt64
        /// For a tombstone: when to stop announcing it.
        var tombstoneUntil: ContinuousClock.Instant?
    }

    private(set) var slots: [RecordKey: [UInt64: Announcement]] = [:]

    /// Announces `record` under `openDHTID`. Returns the OpenDHT ids whose puts to cancel,
    /// or nil when the slot announces a newer write already (the record must not go out).
    mutating func announce(_ record: Record, openDHTID: UInt64, now: ContinuousClock.Instant,
                           tombstoneLifetime: Duration) -> [UInt64]? {
        let previous = slots[record.key]?[record.valueID]
        if let previous, previous.sequence > record.sequence { return nil }
        slots[record.key, default: [:]][record.valueID] = Announcement(
            openDHTID: openDHTID, sequence: record.sequence, tombstoneUntil: record.isTombstone ? now + tombstoneLifetime : nil)
        return previous.map { [$0.openDHTID] } ?? []
    }

    /// Tombstones whose lifetime ended, no longer announced: the puts to cancel, by key.
    mutating func expire(now: ContinuousClock.Instant) -> [(key: RecordKey, openDHTID: UInt64)] {
        var ended: [(key: RecordKey, openDHTID: UInt64)] = []
        for (key, announced) in slots.sorted(by: { $0.key < $1.key }) {
            for (valueID, announcement) in announced.sorted(by: { $0.key < $1.key })
            where announcement.tombstoneUntil.map({ $0 <= now }) ?? false {
                ended.append((key, announcement.openDHTID))
                slots[key]?[valueID] = nil
            }
            if slots[key]?.isEmpty == true { slots[key] = nil }
        }
        return ended
    }
}
