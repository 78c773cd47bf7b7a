import Primitives

/// Direct exchange's stores that no member has acknowledged yet, sent again with backoff.
///
/// In direct exchange a put goes once to every member; a store (or its acknowledgement)
/// lost to loss or a cut would otherwise be repaired only by the owner's republish at half
/// the record's lifetime, or, for a withdrawal, by the record's expiry. So each store sent
/// to a member is kept here, per member and slot (the newest record only: a newer one
/// replaces an older one not yet acknowledged), and sent again after `first`, then after
/// twice as long each time up to `cap`, until the member acknowledges it (any `stored`
/// answer, refusals included: a refusal will not change by sending again) or is dropped
/// from the mesh. Memory is bounded by `perMember` items per member; a store beyond it is
/// not kept (and counted by the node as the `redelivery_per_member` limit).
struct Redelivery: Sendable {
    /// Which record an acknowledgement is for.
    struct Ref: Hashable, Sendable {
        var key: RecordKey
        var slot: RecordSlot
        var sequence: UInt64
    }

    struct Item: Sendable {
        var record: Record
        var contact: Contact
        /// Sends so far (the first included).
        var sends: Int
        var dueAt: Instant
    }

    private struct Place: Hashable { var key: RecordKey; var slot: RecordSlot }

    let first: Interval
    let cap: Interval
    let perMember: Int
    private var items: [NodeID: [Place: Item]] = [:]

    init(first: Interval, cap: Interval, perMember: Int) {
        self.first = first
        self.cap = cap
        self.perMember = perMember
    }

    /// Items waiting for an acknowledgement, over all members.
    var count: Int { items.values.reduce(0) { $0 + $1.count } }

    func count(for member: NodeID) -> Int { items[member]?.count ?? 0 }

    var isEmpty: Bool { items.isEmpty }

    /// `record` was just sent to `member` for the first time; false when the member's
    /// backlog is full (the store still went out once).
    mutating func sent(_ record: Record, to member: Contact, now: Instant) -> Bool {
        let place = Place(key: record.key, slot: record.slot)
        if let held = items[member.id]?[place], held.record.sequence > record.sequence { return true }
        if items[member.id]?[place] == nil, count(for: member.id) >= perMember { return false }
        items[member.id, default: [:]][place] = Item(record: record, contact: member, sends: 1, dueAt: now + first)
        return true
    }

    /// `member` acknowledged the record `ref` names: forget it unless a newer one is waiting.
    mutating func acknowledged(_ ref: Ref, by member: NodeID) {
        let place = Place(key: ref.key, slot: ref.slot)
        guard let held = items[member]?[place], held.record.sequence <= ref.sequence else { return }
        items[member]![place] = nil
        if items[member]!.isEmpty { items[member] = nil }
    }

    /// The member left the mesh: its backlog goes (it gets every own record when it is met again).
    mutating func forget(_ member: NodeID) { items[member] = nil }

    mutating func removeAll() { items.removeAll() }

    var nextDue: Instant? {
        var next: Instant?
        for perMember in items.values {
            for item in perMember.values where next.map({ item.dueAt < $0 }) ?? true { next = item.dueAt }
        }
        return next
    }

    /// The items due at `now`, in a stable order, each rescheduled with a doubled wait.
    mutating func due(now: Instant) -> [(contact: Contact, record: Record)] {
        var out: [(contact: Contact, record: Record)] = []
        for member in items.keys.sorted() {
            for (place, item) in items[member]!.sorted(by: { ($0.key.key, $0.key.slot) < ($1.key.key, $1.key.slot) }) where item.dueAt <= now {
                var next = item
                next.sends += 1
                next.dueAt = now + backoff(afterSends: next.sends)
                items[member]![place] = next
                out.append((item.contact, item.record))
            }
        }
        return out
    }

    /// `first`, `2 first`, `4 first`, … up to `cap`.
    func backoff(afterSends sends: Int) -> Interval {
        let doublings = min(max(sends - 1, 0), 30)
        return min(cap, first * Double(1 << doublings))
    }
}
