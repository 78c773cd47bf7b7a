import Primitives

/// The subscriber's side: leases on the holders closest to a key, and notifications.
extension DHTNode {
    mutating func subscriptionLookupFinished(_ key: RecordKey, values: [RecordSlot: RecordCopy], report: LookupReport, now: Instant) {
        guard subscriptions[key] != nil else { return }
        for copy in values.values.sorted(by: { $0.record.slot < $1.record.slot }) {
            reportChange(copy, key: key, now: now)
        }
        // Holders: the closest nodes found, plus this node when it is one of them.
        var holders = Array(report.closest.prefix(configuration.subscriptionReplicas))
        let replicas = configuration.subscriptionReplicas
        let selfIsHolder = holders.count < replicas
            || id.distance(to: key.point) < holders[replicas - 1].id.distance(to: key.point)
        if selfIsHolder {
            let me = Contact(id: id, endpoint: Endpoint(address: .v4(0), port: 0))
            let granted = subscribers.subscribe(me, key: key, lease: configuration.subscriptionLease, now: now)
            subscriptions[key]!.holders[id] = (me, now + .seconds(Double(granted)))
            if holders.count >= replicas { holders.removeLast() }
        }
        subscriptions[key]!.relookupAt = now + configuration.subscriptionRelookupInterval.jittered(0.2, using: &rng)
        subscriptions[key]!.renewAt = now + .seconds(Double(configuration.subscriptionLease) / 2).jittered(0.1, using: &rng)
        subscriptions[key]!.outstandingLeases += holders.count
        for h in holders where subscriptions[key]!.holders[h.id] == nil {
            send(.subscribe(key: key, lease: configuration.subscriptionLease), to: h.endpoint, expecting: h.id, purpose: .subscribe(key), now: now)
        }
        // Holders that are no longer among the closest keep their lease until it lapses.
        if subscriptions[key]!.outstandingLeases == 0 { subscriptionEstablished(key) }
    }

    mutating func leaseAnswered(_ key: RecordKey, holder: Contact?, lease: UInt32, expected: NodeID? = nil, now: Instant) {
        guard subscriptions[key] != nil else { return }
        if let holder, lease > 0 {
            subscriptions[key]!.holders[holder.id] = (holder, now + .seconds(Double(lease)))
        } else if let gone = holder?.id ?? expected {
            subscriptions[key]!.holders[gone] = nil
        }
        if subscriptions[key]!.outstandingLeases > 0 {
            subscriptions[key]!.outstandingLeases -= 1
            if subscriptions[key]!.outstandingLeases == 0 { subscriptionEstablished(key) }
        }
    }

    /// Reports the subscription to its owner once. In direct exchange every member feeds
    /// it, so they all count as holders.
    mutating func subscriptionEstablished(_ key: RecordKey) {
        guard let s = subscriptions[key], !s.established else { return }
        subscriptions[key]!.established = true
        effects.append(.completed(s.request, .subscribed(holders: isDirect ? mesh.count + 1 : s.holders.count)))
    }

    /// A holder pushed a change.
    mutating func notified(_ copy: RecordCopy, now: Instant, verified: Bool = false) {
        let key = copy.record.key
        guard subscriptions[key] != nil, copy.remaining > 0 else { return }
        var copy = copy
        // A push is held to its issue time like a store, in direct exchange: there every
        // copy a member holds was stored in full, so is recent (`republish`). In the DHT,
        // holders renew by id and push what they hold on a new lease (bytes as old as the
        // last full store), so a pushed copy is taken as it comes there.
        if isDirect, let wall = ownerWall(copy.record, now: now) {
            guard copy.record.validUntil > wall else {
                counters.rejections[.stale, default: 0] += 1
                return
            }
            let left = UInt32(clamping: min(copy.record.validUntil - wall, UInt64(copy.record.ttl) + Record.clockSkew))
            // A tombstone is remembered until every copy of what it deleted is stale.
            copy.remaining = copy.record.isTombstone ? max(copy.remaining, left) : min(copy.remaining, left)
        }
        if !verified, let rejection = verifier.check(copy.record) {
            counters.rejections[rejection, default: 0] += 1
            return
        }
        reckon(copy.record, now: now)
        reportChange(copy, key: key, now: now)
    }

    mutating func reportChange(_ copy: RecordCopy, key: RecordKey, now: Instant) {
        guard let change = subscriptions[key]!.absorb(copy, now: now) else { return }
        effects.append(.notification(SubscriptionNotification(key: key, request: subscriptions[key]!.request, change: change)))
    }

    /// Renews leases, replaces lost holders, reports expired values.
    mutating func maintainSubscriptions(now: Instant) {
        for key in subscriptions.keys.sorted() {
            checkExpiring(key, now: now)
            for (holderID, h) in subscriptions[key]!.holders where h.until <= now { subscriptions[key]!.holders[holderID] = nil }
            let s = subscriptions[key]!
            if isDirect {
                // Served from our own store (and, across NAT, by bridges): our own lease and
                // the bridges' need renewing.
                if now >= s.renewAt || s.holders[id] == nil {
                    subscriptions[key]!.renewAt = now + .seconds(Double(configuration.subscriptionLease) / 2).jittered(0.1, using: &rng)
                    renewOwnLease(key, now: now)
                    if now >= s.renewAt { leaseAtBridges(key, renewing: true, now: now) }
                }
                continue
            }
            if now >= s.relookupAt || (s.established && s.holders.count < configuration.subscriptionReplicas / 2) {
                subscriptions[key]!.relookupAt = now + configuration.subscriptionRelookupInterval.jittered(0.2, using: &rng)
                startLookup(.subscribe(key), target: key.point, now: now)
            } else if now >= s.renewAt {
                subscriptions[key]!.renewAt = now + .seconds(Double(configuration.subscriptionLease) / 2).jittered(0.1, using: &rng)
                for (holderID, h) in s.holders.sorted(by: { $0.key < $1.key }) {
                    if holderID == id {
                        let granted = subscribers.subscribe(h.contact, key: key, lease: configuration.subscriptionLease, now: now)
                        subscriptions[key]!.holders[id] = (h.contact, now + .seconds(Double(granted)))
                    } else {
                        send(.subscribe(key: key, lease: configuration.subscriptionLease), to: h.contact.endpoint, expecting: holderID, purpose: .subscribe(key), now: now)
                    }
                }
            }
        }
    }

    // MARK: values whose copy ran out

    /// A value's copy ran out here: it may only have been refreshed (holders do not push
    /// refreshes). Our own store answers first; then the holders are asked one at a time,
    /// closest first, by version (`probe`, a few dozen bytes) and, when a holder lacks one,
    /// for its values (`findValue`); the values none of them holds are reported expired.
    mutating func checkExpiring(_ key: RecordKey, now: Instant) {
        guard let s = subscriptions[key], s.checking == nil else { return }
        guard s.hasExpiring(now: now) else {
            _ = subscriptions[key]!.expire(now: now)  // ended tombstones: no news
            return
        }
        for copy in store.copies(for: key, now: now) { reportChange(copy, key: key, now: now) }
        subscriptions[key]!.checking = []
        askNextHolder(key, now: now)
    }

    /// Asks the next holder not asked yet, or, when none is left, reports what is still
    /// past its lifetime as expired.
    mutating func askNextHolder(_ key: RecordKey, now: Instant) {
        guard let s = subscriptions[key], let asked = s.checking else { return }
        guard s.hasExpiring(now: now) else {
            subscriptions[key]!.checking = nil
            return
        }
        // In direct exchange the holders other than this node are bridges (`DHTNode+Bridges`).
        let next = s.holders
            .filter { $0.key != id && !asked.contains($0.key) && $0.value.until > now }
            .map(\.value.contact)
            .min { $0.id.distance(to: key.point) < $1.id.distance(to: key.point) }
        guard let next else {
            subscriptions[key]!.checking = nil
            for slot in subscriptions[key]!.expire(now: now) {
                effects.append(.notification(SubscriptionNotification(key: key, request: s.request, change: .expired(slot))))
            }
            return
        }
        subscriptions[key]!.checking!.insert(next.id)
        // By version first: those running out within the next few maintenance periods
        // ride along, so a key's values are asked about together.
        let perProbe = min(codecLimits.maxVersionsPerMessage, Self.slotsPerProbe)
        let slots = Array(s.expiring(before: now + configuration.maintenancePeriod * 4).prefix(perProbe))
        send(.probe(key: key, slots: slots), to: next.endpoint, expecting: next.id, purpose: .probeValues(key, slots), now: now)
    }

    /// Slots one probe names: 48 bytes each, so that a probe fits a packed frame.
    static let slotsPerProbe = 24

    /// A holder answered a probe: values it holds at the version asked live on; if it
    /// lacks any (a newer version, or gone), or more ran out than one probe names, its
    /// values are fetched.
    mutating func probeAnswered(_ key: RecordKey, slots: [SlotVersion], body: MessageBody, from holder: Contact, now: Instant) {
        guard subscriptions[key]?.checking != nil else { return }
        guard case .held(let remaining) = body, remaining.count == slots.count else { return askNextHolder(key, now: now) }
        for (v, left) in zip(slots, remaining) where left > 0 {
            subscriptions[key]!.extend(v, until: now + .seconds(Double(left)))
        }
        if remaining.contains(0) || subscriptions[key]!.hasExpiring(now: now) {
            send(.findValue(key: key, offset: 0), to: holder.endpoint, expecting: holder.id, purpose: .check(key, offset: 0), now: now)
        } else {
            askNextHolder(key, now: now)
        }
    }

    /// A holder answered a check: what it holds renews (or changes) our copies.
    mutating func checkAnswered(_ key: RecordKey, offset: Int, body: MessageBody, from holder: Contact, now: Instant) {
        guard subscriptions[key]?.checking != nil else { return }
        if case .values(let records, let more, _) = body {
            for copy in records where copy.record.key == key && copy.remaining > 0 {
                if let rejection = verifier.check(copy.record) {
                    counters.rejections[rejection, default: 0] += 1
                    continue
                }
                reportChange(copy, key: key, now: now)
            }
            if more, !records.isEmpty {
                let next = offset + records.count
                send(.findValue(key: key, offset: UInt16(clamping: next)), to: holder.endpoint, expecting: holder.id, purpose: .check(key, offset: next), now: now)
                return
            }
        }
        askNextHolder(key, now: now)
    }
}
