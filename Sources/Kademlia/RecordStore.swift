import Primitives

/// The values a node holds for others: per key, at most one value per slot (owner, value id).
///
/// Rules, in the order they are checked (cheap before expensive):
/// 1. size and lifetime bounds (`tooLarge`, `ttlTooLong`, `expired`), and, given the wall
///    clock, the issue time: a version past `Record.validUntil` is refused (`stale`);
/// 2. an identical copy of the held record (no signature check: the bytes were verified
///    when first stored) renews its lifetime without the wall clock; with it, it changes
///    nothing: owners renew by issuing again, and a copy kept back and replayed must not
///    keep a value alive that its owner stopped renewing;
/// 3. the owner binding and signature (`wrongOwner`, `badSignature`);
/// 4. the same version issued again later by its owner (a republish, `Identity.reissued`)
///    renews the held value; otherwise replacement only by a higher sequence number in the
///    same slot (`staleSequence`);
/// 5. capacity: a new slot must fit the key (`tooManyValuesPerKey`), the owner's share of
///    the key (`tooManyValuesPerOwner`), the owner's share of the store
///    (`tooManyValuesFromOwner`: records per island) and the store (`storeFull`).
///
/// With the wall clock, no value is kept past its `validUntil`. A tombstone replaces the
/// slot's value and is kept at least until that value would have expired and, with the
/// wall clock, until its own `validUntil`: a tombstone is issued after what it deletes,
/// with a lifetime at least as long (`Identity.tombstone(for:)`), so any copy of the value
/// kept back meets the tombstone or is `stale`. What remains: a node that lost the
/// tombstone (it restarted) takes a replayed copy until the copy's `validUntil`, at most
/// `ttl + Record.clockSkew` after it was captured, and a second replay does not extend that.
/// Slots are independent: a tombstone or a new sequence number in one never touches the
/// owner's other slots.
public struct RecordStore: Sendable {
    /// One slot's value under one key and when it expires on this node's clock.
    public struct Entry: Hashable, Sendable {
        public var record: Record
        public var expiresAt: Instant
    }

    /// What storing a copy changed.
    public enum Outcome: Equatable, Sendable {
        /// A value in a slot not held before.
        case added
        /// A newer value replaced the slot's older one.
        case replaced
        /// A tombstone replaced (or pre-empted) the slot's value.
        case deleted
        /// The held version arrived again: issued again by its owner, its lifetime was
        /// renewed; the very same bytes (a copy, perhaps replayed) changed nothing.
        case renewed
        case rejected(RecordRejection)
    }

    public let limits: Limits
    public private(set) var entries: [RecordKey: [RecordSlot: Entry]] = [:]
    public private(set) var storedBytes = 0
    /// Slots held per key per owner (what `maxValuesPerOwnerPerKey` bounds).
    private var ownerCounts: [RecordKey: [NodeID: Int]] = [:]
    /// Slots held per owner over all keys (what `maxValuesPerOwner` bounds).
    public private(set) var ownerTotals: [NodeID: Int] = [:]
    /// Each key's slots in slot order, kept as slots come and go: answers walk it instead of
    /// sorting the key's values for every page they send.
    private var order: [RecordKey: [RecordSlot]] = [:]
    /// No value of the key expires before this (a lower bound, exact after `removeExpired`):
    /// while it is ahead, a page starts at its offset in `order` without counting the values
    /// before it.
    private var earliestExpiry: [RecordKey: Instant] = [:]

    public init(limits: Limits) { self.limits = limits }

    public var keyCount: Int { entries.count }
    public var valueCount: Int { entries.values.reduce(0) { $0 + $1.count } }

    /// `wall`: this node's wall clock (Unix seconds), to hold records to their issue time;
    /// nil leaves it out (lifetimes count from receipt only, as before issue times).
    public mutating func store(_ copy: RecordCopy, now: Instant, wall: UInt64? = nil, verifier: some RecordVerifier) -> Outcome {
        let record = copy.record
        guard record.payload.count <= limits.maxPayloadBytes else { return .rejected(.tooLarge) }
        guard record.ttl <= limits.maxTTL else { return .rejected(.ttlTooLong) }
        guard copy.remaining > 0, copy.remaining <= record.ttl else { return .rejected(.expired) }
        var lifetime = Double(copy.remaining)
        if let wall {
            guard record.validUntil > wall else { return .rejected(.stale) }
            let left = Double(min(record.validUntil - wall, UInt64(record.ttl) + Record.clockSkew))
            // A tombstone stays until every copy of what it deleted is stale.
            lifetime = record.isTombstone ? max(lifetime, left) : min(lifetime, left)
        }
        let expiresAt = now + .seconds(lifetime)
        let slot = record.slot
        let held = entries[record.key]?[slot]
        if let held, held.record == record {
            // Without issue times a copy is how lifetimes are renewed (bridges forward them);
            // with them owners renew by issuing again, and the same bytes are only a copy.
            if wall == nil, held.expiresAt < expiresAt { entries[record.key]![slot]!.expiresAt = expiresAt }
            return .renewed
        }
        if let rejection = verifier.check(record) { return .rejected(rejection) }
        if let held, held.expiresAt > now, record.sequence == held.record.sequence, record.issuedAt > held.record.issuedAt,
           record.isTombstone == held.record.isTombstone, record.payload == held.record.payload, record.ttl == held.record.ttl {
            entries[record.key]![slot] = Entry(record: record, expiresAt: max(held.expiresAt, expiresAt))
            return .renewed
        }
        if let held, held.expiresAt > now, record.sequence <= held.record.sequence {
            return .rejected(.staleSequence)
        }
        if held == nil {
            if entries[record.key]?.count ?? 0 >= limits.maxValuesPerKey { return .rejected(.tooManyValuesPerKey) }
            if ownerCounts[record.key]?[record.owner] ?? 0 >= limits.maxValuesPerOwnerPerKey { return .rejected(.tooManyValuesPerOwner) }
            if ownerTotals[record.owner] ?? 0 >= limits.maxValuesPerOwner { return .rejected(.tooManyValuesFromOwner) }
        }
        let growth = record.footprint - (held?.record.footprint ?? 0)
        guard storedBytes + growth <= limits.maxStoredBytes else { return .rejected(.storeFull) }

        var keep = expiresAt
        if record.isTombstone, let held, held.expiresAt > keep { keep = held.expiresAt }
        entries[record.key, default: [:]][slot] = Entry(record: record, expiresAt: keep)
        earliestExpiry[record.key] = min(earliestExpiry[record.key] ?? keep, keep)
        if held == nil {
            ownerCounts[record.key, default: [:]][record.owner, default: 0] += 1
            ownerTotals[record.owner, default: 0] += 1
            order[record.key, default: []].insertSorted(slot)
        }
        storedBytes += growth
        if record.isTombstone { return .deleted }
        return held == nil || held!.record.isTombstone || held!.expiresAt <= now ? .added : .replaced
    }

    /// What an id-only refresh (`MessageBody.refresh`) found.
    public enum RefreshOutcome: Equatable, Sendable {
        /// Held at that sequence: its lifetime was renewed.
        case renewed
        /// Held at a newer sequence: nothing to do.
        case superseded
        /// Not held, expired, or older: the owner must send the record.
        case unknown
    }

    /// Renews the slot's value for another full lifetime if it is held, unexpired, at
    /// exactly `sequence`; nothing else changes (no signature to check: the bytes were
    /// verified when stored).
    public mutating func refresh(key: RecordKey, slot: RecordSlot, sequence: UInt64, now: Instant) -> RefreshOutcome {
        guard let held = entries[key]?[slot], held.expiresAt > now else { return .unknown }
        if held.record.sequence > sequence { return .superseded }
        guard held.record.sequence == sequence else { return .unknown }
        let expiresAt = now + .seconds(Double(held.record.ttl))
        if held.expiresAt < expiresAt { entries[key]![slot]!.expiresAt = expiresAt }
        return .renewed
    }

    /// Copies of the unexpired values (and tombstones) under `key`, ordered by slot, with
    /// the lifetime each has left.
    public func copies(for key: RecordKey, now: Instant) -> [RecordCopy] {
        Array(copies(for: key, now: now, from: 0))
    }

    /// The same from the `offset`-th on, made as they are read (a paged answer reads a few).
    public func copies(for key: RecordKey, now: Instant, from offset: Int) -> some Sequence<RecordCopy> {
        let slots = entries[key] ?? [:]
        let order = order[key] ?? []
        // Nothing ran out yet: the offset is an index. Else the live ones before it are counted.
        let start = (earliestExpiry[key].map { $0 > now } ?? false) ? min(offset, order.count) : 0
        return order[start...].lazy
            .compactMap { slots[$0] }
            .filter { $0.expiresAt > now }
            .dropFirst(offset - start)
            .map { RecordCopy(record: $0.record, remaining: Self.remaining($0, now: now)) }
    }

    public func entry(key: RecordKey, slot: RecordSlot) -> Entry? { entries[key]?[slot] }

    /// Copies of `owner`'s unexpired values (and tombstones) under every key, ordered by key
    /// and slot (what a bridge forwards when a member turns out to be bridged).
    public func records(ownedBy owner: NodeID, now: Instant) -> [RecordCopy] {
        guard ownerTotals[owner] != nil else { return [] }
        return entries.keys.sorted().flatMap { key in
            entries[key]!.values.filter { $0.record.owner == owner && $0.expiresAt > now }
                .sorted { $0.record.slot < $1.record.slot }
                .map { RecordCopy(record: $0.record, remaining: Self.remaining($0, now: now)) }
        }
    }

    /// Drops expired values; returns them (the node tells subscribers).
    public mutating func removeExpired(now: Instant) -> [Record] {
        var gone: [Record] = []
        for (key, slots) in entries {
            for (slot, e) in slots where e.expiresAt <= now {
                gone.append(e.record)
                entries[key]![slot] = nil
                storedBytes -= e.record.footprint
                ownerCounts[key]![slot.owner]! -= 1
                if ownerCounts[key]![slot.owner] == 0 { ownerCounts[key]![slot.owner] = nil }
                ownerTotals[slot.owner]! -= 1
                if ownerTotals[slot.owner] == 0 { ownerTotals[slot.owner] = nil }
            }
            if entries[key]!.isEmpty {
                entries[key] = nil
                ownerCounts[key] = nil
                order[key] = nil
                earliestExpiry[key] = nil
            } else {
                if entries[key]!.count < order[key]!.count { order[key]!.removeAll { entries[key]![$0] == nil } }
                earliestExpiry[key] = entries[key]!.values.lazy.map(\.expiresAt).min()
            }
        }
        return gone.sorted { ($0.key, $0.slot) < ($1.key, $1.slot) }
    }

    static func remaining(_ e: Entry, now: Instant) -> UInt32 {
        let left = e.expiresAt.since(now).seconds.rounded(.up)
        return UInt32(min(Double(e.record.ttl), max(1, left)))
    }
}

private extension Array where Element == RecordSlot {
    /// Inserts into an array sorted ascending, keeping it sorted.
    mutating func insertSorted(_ slot: RecordSlot) {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < slot { low = mid + 1 } else { high = mid }
        }
        insert(slot, at: low)
    }
}
