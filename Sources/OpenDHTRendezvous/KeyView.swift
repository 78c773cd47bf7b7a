import Kademlia
import Primitives
import Rendezvous

/// What one key holds, as a reader sees it through OpenDHT, and the changes to report.
///
/// OpenDHT cannot replace an unsigned value in place (its default edit policy refuses a new
/// value under an id it holds), so every put of ours is a new OpenDHT value, and the copies
/// a put replaced linger until they expire. The view therefore keeps every copy it has
/// seen (OpenDHT value id → record) and shows, per slot (owner, value id), the record with
/// the highest sequence number ever seen for that slot, unless that record is a tombstone
/// or has expired. Older copies never come back: a replaced or deleted value stays so even
/// while its stale copies are still stored somewhere.
struct KeyView {
    let key: RecordKey
    private var copies: [UInt64: Record] = [:]
    /// The highest sequence number seen per slot, expired or not.
    private var newestSequence: [ValueSlot: UInt64] = [:]

    init(key: RecordKey) { self.key = key }

    /// The live values, one per slot.
    var values: [ValueSlot: RendezvousValue] {
        var values: [ValueSlot: RendezvousValue] = [:]
        for record in copies.values where !record.isTombstone && record.sequence == newestSequence[record.slot] {
            values[record.slot] = RendezvousValue(record)
        }
        return values
    }

    /// A copy arrived (present at listen time, or new).
    mutating func add(_ record: Record, openDHTID: UInt64) -> [RendezvousChange] {
        changes {
            $0.copies[openDHTID] = record
            $0.newestSequence[record.slot] = max($0.newestSequence[record.slot] ?? 0, record.sequence)
        }
    }

    /// A copy expired (its owner stopped refreshing it).
    mutating func expire(openDHTID: UInt64) -> [RendezvousChange] {
        changes { _ = $0.copies.removeValue(forKey: openDHTID) }
    }

    private mutating func changes(_ update: (inout KeyView) -> Void) -> [RendezvousChange] {
        let before = values
        update(&self)
        let after = values
        var changes: [RendezvousChange] = []
        for (slot, value) in after.sorted(by: { $0.key < $1.key }) where before[slot] != value {
            changes.append(.upserted(value))
        }
        for slot in before.keys.sorted() where after[slot] == nil {
            changes.append(.removed(key, slot))
        }
        return changes
    }
}
