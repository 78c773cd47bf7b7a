/// The values a node holds for others: per key, at most one value per owner.
///
/// Rules, in the order they are checked (cheap before expensive):
/// 1. size and lifetime bounds (`tooLarge`, `ttlTooLong`, `expired`);
/// 2. an identical copy of the held record only renews its lifetime (no signature check:
///    the bytes were verified when first stored);
/// 3. the owner binding and signature (`wrongOwner`, `badSignature`);
/// 4. replacement only by a higher sequence number from the same owner (`staleSequence`);
/// 5. capacity (`tooManyValuesPerKey`, `storeFull`).
///
/// A tombstone replaces the owner's value and is kept at least until that value would
/// have expired, so a stale replica cannot bring the value back.
public struct RecordStore: Sendable {
    /// One owner's value under one key and when it expires on this node's clock.
    public struct Entry: Hashable, Sendable {
        public var record: Record
        public var expiresAt: Instant
    }

    /// What storing a copy changed.
    public enum Outcome: Equatable, Sendable {
        /// A value from an owner not held before.
        case added
        /// A newer value replaced the owner's older one.
        case replaced
        /// A tombstone replaced (or pre-empted) the owner's value.
        case deleted
        /// The same record arrived again; its lifetime was renewed.
        case renewed
        case rejected(RecordRejection)
    }

    public let limits: Limits
    public private(set) var entries: [RecordKey: [NodeID: Entry]] = [:]
    public private(set) var storedBytes = 0

    public init(limits: Limits) { self.limits = limits }

    public var keyCount: Int { entries.count }
    public var valueCount: Int { entries.values.reduce(0) { $0 + $1.count } }

    public mutating func store(_ copy: RecordCopy, now: Instant, verifier: some RecordVerifier) -> Outcome {
        let record = copy.record
        guard record.payload.count <= limits.maxPayloadBytes else { return .rejected(.tooLarge) }
        guard record.ttl <= limits.maxTTL else { return .rejected(.ttlTooLong) }
        guard copy.remaining > 0, copy.remaining <= record.ttl else { return .rejected(.expired) }
        let expiresAt = now + .seconds(Double(copy.remaining))
        let held = entries[record.key]?[record.owner]
        if let held, held.record == record {
            if held.expiresAt < expiresAt { entries[record.key]![record.owner]!.expiresAt = expiresAt }
            return .renewed
        }
        if let rejection = verifier.check(record) { return .rejected(rejection) }
        if let held, held.expiresAt > now, record.sequence <= held.record.sequence {
            return .rejected(.staleSequence)
        }
        let valuesUnderKey = entries[record.key]?.count ?? 0
        if held == nil, valuesUnderKey >= limits.maxValuesPerKey { return .rejected(.tooManyValuesPerKey) }
        let growth = record.footprint - (held?.record.footprint ?? 0)
        guard storedBytes + growth <= limits.maxStoredBytes else { return .rejected(.storeFull) }

        var keep = expiresAt
        if record.isTombstone, let held, held.expiresAt > keep { keep = held.expiresAt }
        entries[record.key, default: [:]][record.owner] = Entry(record: record, expiresAt: keep)
        storedBytes += growth
        if record.isTombstone { return .deleted }
        return held == nil || held!.record.isTombstone || held!.expiresAt <= now ? .added : .replaced
    }

    /// Copies of the unexpired values (and tombstones) under `key`, ordered by owner, with
    /// the lifetime each has left.
    public func copies(for key: RecordKey, now: Instant) -> [RecordCopy] {
        guard let owners = entries[key] else { return [] }
        return owners.values
            .filter { $0.expiresAt > now }
            .sorted { $0.record.owner < $1.record.owner }
            .map { RecordCopy(record: $0.record, remaining: Self.remaining($0, now: now)) }
    }

    public func entry(key: RecordKey, owner: NodeID) -> Entry? { entries[key]?[owner] }

    /// Drops expired values; returns them (the node tells subscribers).
    public mutating func removeExpired(now: Instant) -> [Record] {
        var gone: [Record] = []
        for (key, owners) in entries {
            for (owner, e) in owners where e.expiresAt <= now {
                gone.append(e.record)
                entries[key]![owner] = nil
                storedBytes -= e.record.footprint
            }
            if entries[key]!.isEmpty { entries[key] = nil }
        }
        return gone.sorted { ($0.key, $0.owner) < ($1.key, $1.owner) }
    }

    static func remaining(_ e: Entry, now: Instant) -> UInt32 {
        let left = e.expiresAt.since(now).seconds.rounded(.up)
        return UInt32(min(Double(e.record.ttl), max(1, left)))
    }
}
