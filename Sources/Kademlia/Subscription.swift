import Primitives

/// The subscriber's side of one subscription: which nodes near the key hold its lease, and
/// which values it has already told its owner about (so the copies pushed by several
/// holders are reported once). Changes are per slot (owner, value id).
///
/// Holders push changes, not refreshes: a value's lifetime here is the one it had when
/// it was last pushed or fetched, and when it runs out a holder is asked
/// (`DHTNode.checkExpiring`) before the value is reported expired.
///
/// Holders are the `subscriptionReplicas` closest nodes found by a value lookup. Leases
/// are renewed directly with the holders every half lease, which costs a few hundred bytes;
/// the lookup is redone only every `subscriptionRelookupInterval` (the closest set drifts
/// as nodes join) or when holders stop answering.
public struct Subscription: Sendable {
    public let key: RecordKey
    public let request: RequestID
    /// Holders and the lease each granted.
    public internal(set) var holders: [NodeID: (contact: Contact, until: Instant)] = [:]
    /// The values reported so far, per slot, with their local expiry.
    public internal(set) var known: [RecordSlot: (sequence: UInt64, tombstone: Bool, expiresAt: Instant)] = [:]
    public internal(set) var renewAt: Instant
    public internal(set) var relookupAt: Instant
    /// Whether the initial lookup and lease round has been reported to the owner.
    public internal(set) var established = false
    var outstandingLeases = 0
    /// Holders asked so far about values whose copy ran out here; nil when no check runs.
    var checking: Set<NodeID>?

    init(key: RecordKey, request: RequestID, now: Instant) {
        self.key = key
        self.request = request
        self.renewAt = now
        self.relookupAt = now
    }

    /// Folds a copy into the known values; returns the change to report, if any.
    mutating func absorb(_ copy: RecordCopy, now: Instant) -> ValueChange? {
        let r = copy.record
        let expiresAt = now + .seconds(Double(copy.remaining))
        let slot = r.slot
        if let k = known[slot] {
            if r.sequence < k.sequence { return nil }
            if r.sequence == k.sequence {
                if expiresAt > k.expiresAt { known[slot]!.expiresAt = expiresAt }
                return nil
            }
            known[slot] = (r.sequence, r.isTombstone, expiresAt)
            if r.isTombstone { return k.tombstone ? nil : .deleted(r) }
            return k.tombstone ? .new(r) : .changed(r)
        }
        known[slot] = (r.sequence, r.isTombstone, expiresAt)
        return r.isTombstone ? nil : .new(r)
    }

    /// Whether a live value's copy ran out here: holders do not push refreshes, so the
    /// subscriber asks one before it calls the value expired.
    func hasExpiring(now: Instant) -> Bool {
        known.contains { !$0.value.tombstone && $0.value.expiresAt <= now }
    }

    /// The live values whose copy runs out before `horizon`, oldest first (what a probe asks about).
    func expiring(before horizon: Instant) -> [SlotVersion] {
        known.filter { !$0.value.tombstone && $0.value.expiresAt <= horizon }
            .sorted { ($0.value.expiresAt, $0.key) < ($1.value.expiresAt, $1.key) }
            .map { SlotVersion(slot: $0.key, sequence: $0.value.sequence) }
    }

    /// A holder still holds the value at this version until `until`.
    mutating func extend(_ v: SlotVersion, until: Instant) {
        guard let k = known[v.slot], k.sequence == v.sequence, k.expiresAt < until else { return }
        known[v.slot]!.expiresAt = until
    }

    /// Values whose lifetime ran out without a renewal; they are forgotten. Returns the
    /// slots of live values among them (a tombstone's end is no news).
    mutating func expire(now: Instant) -> [RecordSlot] {
        let gone = known.filter { $0.value.expiresAt <= now }.map(\.key).sorted()
        var live: [RecordSlot] = []
        for slot in gone {
            if known[slot]?.tombstone == false { live.append(slot) }
            known[slot] = nil
        }
        return live
    }
}
