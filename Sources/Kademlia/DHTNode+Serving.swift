import Primitives

/// Answering other nodes' requests.
extension DHTNode {
    /// - Parameter newcomer: the sender was not in our table before this message.
    mutating func serve(_ body: MessageBody, from sender: Contact, transaction: UInt32, newcomer: Bool, now: Instant) {
        switch body {
        case .ping:
            send(.pong, to: sender.endpoint, transaction: transaction)
        case .findNode(let target):
            let wide = newcomer && target == sender.id
            let peerExchange = isDirect && target == sender.id
            if peerExchange { handOwnRecords(to: sender, now: now) }
            // A peer exchange names the asker first, where we see it (`DHTNode+NATMappings`);
            // a node skips its own id among the contacts it is given.
            let contacts = closestFitting(to: target, for: sender.id, wide: wide, first: peerExchange ? sender : nil)
            send(.nodes(contacts), to: sender.endpoint, transaction: transaction)
        case .findValue(let key, let offset):
            send(valuesResponse(key: key, offset: Int(offset), for: sender.id, now: now), to: sender.endpoint, transaction: transaction)
        case .store(let copy):
            let outcome = storeLocally(copy, now: now)
            if case .rejected(let r) = outcome {
                send(.stored(r), to: sender.endpoint, transaction: transaction)
            } else {
                send(.stored(nil), to: sender.endpoint, transaction: transaction)
                if copy.record.owner == sender.id, isBridged(sender.id, now: now) { forwardBridged(copy.record, now: now) }
            }
        case .subscribe(let key, let lease):
            let isNew = subscribers.subscribers(of: key, now: now).contains { $0.id == sender.id } == false
            let granted = subscribers.subscribe(sender, key: key, lease: lease, now: now)
            send(.subscribed(lease: granted), to: sender.endpoint, transaction: transaction)
            // Close the gap between the subscriber's lookup and its lease: push what is held.
            if isNew, granted > 0 {
                for copy in store.copies(for: key, now: now) { send(.notify(copy), to: sender.endpoint, transaction: 0) }
            }
            if granted > 0 { bridgeLeased(by: sender, lease: granted, now: now) }
        case .notify(let copy):
            notified(copy, now: now)
        case .refresh(let key, let versions):
            let unknown = refreshLocally(key, owner: sender.id, versions: versions, now: now)
            send(.refreshed(unknown: unknown), to: sender.endpoint, transaction: transaction)
            if isBridged(sender.id, now: now) { forwardBridgedRenewals(key, owner: sender.id, versions: versions, except: unknown, now: now) }
        case .probe(let key, let slots):
            send(.held(remaining: slots.map { heldLifetime(key, $0, now: now) }), to: sender.endpoint, transaction: transaction)
        case .pong, .nodes, .values, .stored, .subscribed, .refreshed, .held:
            break  // responses never reach here
        }
    }

    /// Renews the owner's values named by a refresh; returns the value ids it must send
    /// in full (not held at that sequence).
    mutating func refreshLocally(_ key: RecordKey, owner: NodeID, versions: [ValueVersion], now: Instant) -> [UInt64] {
        var unknown: [UInt64] = []
        for v in versions where store.refresh(key: key, slot: RecordSlot(owner: owner, valueID: v.valueID), sequence: v.sequence, now: now) == .unknown {
            unknown.append(v.valueID)
        }
        return unknown
    }

    /// Seconds the value is still held at exactly that version; 0 when it is not.
    func heldLifetime(_ key: RecordKey, _ v: SlotVersion, now: Instant) -> UInt32 {
        guard let e = store.entry(key: key, slot: v.slot), e.record.sequence == v.sequence, e.expiresAt > now else { return 0 }
        return RecordStore.remaining(e, now: now)
    }

    /// The closest contacts to `target`: k of them, or, for a node we did not know that asks
    /// about its own id (a joiner), up to 1.5 k (as many as fit in a frame). The extra half
    /// names the nodes just beyond its k closest, which count *it* among their k closest
    /// (rank is not symmetric) and learn of it only when it introduces itself (`announce`).
    /// In direct exchange the answer is a peer exchange: as many members as fit.
    func closestFitting(to target: NodeID, for requester: NodeID, wide: Bool = false, first: Contact? = nil) -> [Contact] {
        let wanted = isDirect ? codecLimits.maxContactsPerMessage : wide ? configuration.k + configuration.k / 2 : configuration.k
        var room = codecLimits.packedFrameBytes - WireCodec.headerBytes - (advertisedOverlay == nil ? 0 : 8) - 1
        var out: [Contact] = []
        if let first {
            out.append(first)
            room -= WireCodec.size(of: first)
        }
        let count = min(wanted, codecLimits.maxContactsPerMessage) - out.count
        for c in known(closestTo: target, count: max(0, count), excluding: requester) {
            let size = WireCodec.size(of: c)
            guard size <= room else { break }
            out.append(c)
            room -= size
        }
        return out
    }

    /// Values first (as many as fit in a frame, `more` if some did not), then as many of
    /// the closest contacts as still fit.
    func valuesResponse(key: RecordKey, offset: Int, for requester: NodeID, now: Instant) -> MessageBody {
        var unread = store.copies(for: key, now: now, from: offset).makeIterator()
        let headerBytes = WireCodec.headerBytes + (advertisedOverlay == nil ? 0 : 8) + 3
        var room = codecLimits.packedFrameBytes - headerBytes
        var records: [RecordCopy] = []
        var more = false
        while let copy = unread.next() {
            let size = WireCodec.size(of: copy)
            if records.isEmpty, size > room {
                // A record too large to pack travels alone, in a frame of up to maxFrameBytes.
                records.append(copy)
                more = unread.next() != nil
                room = 0
                break
            }
            guard size <= room, records.count < codecLimits.maxRecordsPerMessage else { more = true; break }
            records.append(copy)
            room -= size
        }
        var closer: [Contact] = []
        // A page full of values has no room for a contact: no need to look for any.
        let smallestContact = 32 + 1 + 4 + 2
        let candidates = room < smallestContact ? []
            : known(closestTo: key.point, count: min(configuration.k, codecLimits.maxContactsPerMessage), excluding: requester)
        for c in candidates {
            let size = WireCodec.size(of: c)
            guard size <= room else { break }
            closer.append(c)
            room -= size
        }
        return .values(records: records, more: more, closer: closer)
    }

    /// The contacts closest to `target` that this node would name: members in direct
    /// exchange, the routing table in structure.
    func known(closestTo target: NodeID, count: Int, excluding: NodeID) -> [Contact] {
        isDirect ? mesh.closest(to: target, count: count, excluding: excluding) : table.closest(to: target, count: count, excluding: excluding)
    }

    /// Stores a copy and pushes the change to the key's subscribers. A copy of a record
    /// already held (`renewed`) changes nothing a subscriber was sent, so it is not pushed:
    /// subscribers notice a value still alive by asking a holder when their copy runs out
    /// (`DHTNode+Subscriptions`).
    mutating func storeLocally(_ copy: RecordCopy, now: Instant) -> RecordStore.Outcome {
        let outcome = store.store(copy, now: now, wall: ownerWall(copy.record, now: now), verifier: verifier)
        switch outcome {
        case .rejected(let r):
            counters.rejections[r, default: 0] += 1
            return outcome
        case .renewed:
            reckon(copy.record, now: now)
            return outcome
        case .added, .replaced, .deleted:
            reckon(copy.record, now: now)
        }
        guard let held = store.entry(key: copy.record.key, slot: copy.record.slot) else { return outcome }
        let fresh = RecordCopy(record: held.record, remaining: RecordStore.remaining(held, now: now))
        for subscriber in subscribers.subscribers(of: copy.record.key, now: now) {
            if subscriber.id == id {
                notified(fresh, now: now, verified: true)
            } else {
                send(.notify(fresh), to: subscriber.endpoint, transaction: 0)
            }
        }
        return outcome
    }
}
