import Primitives

/// Id-only republishing: an owner's republish of a record that has not changed sends its
/// holders a `refresh` naming (key, value id, sequence), a few dozen bytes, instead of the
/// signed record (~400). A holder that has it renews its lifetime and answers with an empty
/// `refreshed`; one that lacks it (a newcomer among the closest, a holder that restarted or
/// let it expire) names it, and only then the record follows in full. Holders do not push a
/// refresh to subscribers: nothing they were sent changed (OpenDHT refreshes by value id
/// the same way).
extension DHTNode {
    /// Refreshes own records (all under one key) on `holders`, and here when `storeHere`.
    mutating func refreshRound(_ records: [Record], holders: [Contact], storeHere: Bool, now: Instant) {
        guard let key = records.first?.key else { return }
        let versions = records.map { ValueVersion(valueID: $0.valueID, sequence: $0.sequence) }
        if storeHere {
            let unknown = refreshLocally(key, owner: id, versions: versions, now: now)
            for record in records where unknown.contains(record.valueID) {
                _ = storeLocally(RecordCopy(record: record, remaining: record.ttl), now: now)
            }
        }
        let perMessage = max(1, codecLimits.maxVersionsPerMessage)
        for start in stride(from: 0, to: versions.count, by: perMessage) {
            let chunk = Array(versions[start..<min(versions.count, start + perMessage)])
            for c in holders {
                send(.refresh(key: key, versions: chunk), to: c.endpoint, expecting: c.id, purpose: .refresh(key), now: now)
            }
        }
    }

    /// A holder named the values it lacks: send those in full (as they are now: a value
    /// replaced meanwhile goes out in its newest version, one withdrawn for good not at all).
    mutating func refreshAnswered(_ key: RecordKey, unknown: [UInt64], by holder: Contact, now: Instant) {
        guard let own = published[key] else { return }
        for valueID in unknown {
            guard let p = own[valueID], p.until.map({ $0 > now }) ?? true else { continue }
            send(.store(RecordCopy(record: p.record, remaining: p.record.ttl)), to: holder.endpoint, expecting: holder.id, purpose: .replicate, now: now)
        }
    }
}
