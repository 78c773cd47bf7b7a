import Primitives

/// A lookup the node is running and what it is for.
struct ActiveLookup: Sendable {
    enum Purpose: Sendable {
        /// The self-lookup of a join (bootstrap commands wait for it in `joinWaiters`).
        case join
        /// The self-lookup of a merge, seeded with a node of the other side.
        case rejoin
        case lookup(RequestID)
        /// A put of the owner's new record (all records under the lookup's key).
        case put(RequestID, [Record])
        /// A republish of own records under the lookup's key: by id to the `storeReplicas`
        /// closest (periodic), or `thorough` — in full to the k closest, after a merge or a
        /// heal, when the routing table is still filling (`DHTNode.republish(now:thorough:)`).
        case republish([Record], thorough: Bool)
        case get(RequestID)
        case subscribe(RecordKey)
        case refreshBucket
        case neighbourhood
    }

    var purpose: Purpose
    var lookup: Lookup
    var started: Instant
    /// Values met on the way (get, subscribe), newest per slot.
    var values: [RecordSlot: RecordCopy] = [:]
    /// Follow-up value requests still out.
    var extraRequests = 0

    var name: String {
        switch purpose {
        case .join: "bootstrap"
        case .rejoin: "merge"
        case .lookup: "lookup"
        case .put: "put"
        case .republish: "republish"
        case .get: "get"
        case .subscribe: "subscribe"
        case .refreshBucket: "bucket_refresh"
        case .neighbourhood: "neighbourhood"
        }
    }

    var wantsValues: Bool {
        switch purpose {
        case .get, .subscribe: true
        default: false
        }
    }
}

/// A store round of a put: how many holders answered and how.
struct PutState: Sendable {
    var request: RequestID?
    var report: LookupReport
    var attempted: Int
    var acks: Int
    var outstanding: Int
    var rejections: [RecordRejection: Int] = [:]
}

extension DHTNode {
    mutating func startLookup(
        _ purpose: ActiveLookup.Purpose, target: NodeID, now: Instant, seeds: [Contact]? = nil,
        presumedAlive: Set<NodeID> = [], scope: Lookup.Scope? = nil, width: Int? = nil
    ) {
        let lookupID = nextLookupID
        nextLookupID += 1
        let start = seeds ?? table.closest(to: target, count: configuration.k)
        table.touch(bucket: table.bucketIndex(for: target), now: now)
        var active = ActiveLookup(
            purpose: purpose,
            lookup: Lookup(
                target: target, k: width ?? configuration.k, alpha: configuration.alpha, seeds: start, excluding: id,
                presumedAlive: presumedAlive, scope: scope),
            started: now)
        if active.wantsValues {
            for copy in store.copies(for: RecordKey(point: target), now: now) { active.values[copy.record.slot] = copy }
        }
        lookups[lookupID] = active
        counters.lookups[active.name, default: 0] += 1
        advance(lookupID, now: now)
    }

    /// Sends the lookup's next requests, or finishes it.
    mutating func advance(_ lookupID: UInt64, now: Instant) {
        guard var active = lookups[lookupID] else { return }
        let queries = active.lookup.nextQueries()
        lookups[lookupID] = active
        if !queries.isEmpty { counters.lookupRequests[active.name, default: 0] += queries.count }
        for c in queries {
            let body: MessageBody = active.wantsValues
                ? .findValue(key: RecordKey(point: active.lookup.target), offset: 0)
                : .findNode(target: active.lookup.target)
            send(body, to: c.endpoint, expecting: c.id, purpose: .lookup(lookupID), now: now)
        }
        if active.lookup.isFinished && active.extraRequests == 0 {
            lookups[lookupID] = nil
            finish(active, now: now)
        }
    }

    // MARK: answers and timeouts

    mutating func answered(_ request: PendingRequest, by sender: Contact, body: MessageBody, now: Instant) {
        if let ref = request.redelivers, case .stored = body { redelivery.acknowledged(ref, by: sender.id) }
        switch request.purpose {
        case .lookup(let lookupID):
            guard lookups[lookupID] != nil else { return }
            var closer: [Contact] = []
            switch body {
            case .nodes(let contacts): closer = contacts
            case .values(let records, let more, let contacts):
                closer = contacts
                absorb(records, more: more, offset: 0, from: sender, into: lookupID, now: now)
            default: break
            }
            lookups[lookupID]!.lookup.succeeded(sender.id, closer: closer)
            advance(lookupID, now: now)
        case .moreValues(let lookupID, let offset):
            guard lookups[lookupID] != nil else { return }
            lookups[lookupID]!.extraRequests -= 1
            if case .values(let records, let more, _) = body {
                absorb(records, more: more, offset: offset, from: sender, into: lookupID, now: now)
            }
            advance(lookupID, now: now)
        case .bootstrapPing(let request):
            bootstrapPingDone(request, now: now)
        case .announce, .replicate:
            break
        case .probe(let probed):
            table.probeSucceeded(probed, now: now)
        case .peerExchange:
            if case .nodes(let contacts) = body { peersExchanged(contacts, from: sender, now: now) } else { peersExchanged(nil, from: sender, now: now) }
        case .introduce(let named, _, _):
            introduced(named.id)
        case .liveness(let member):
            probingMembers.remove(member)
        case .store(let putID):
            guard puts[putID] != nil else { return }
            if case .stored(let rejection) = body {
                if let rejection { puts[putID]!.rejections[rejection, default: 0] += 1 } else { puts[putID]!.acks += 1 }
            }
            storeAnswered(putID)
        case .subscribe(let key):
            guard case .subscribed(let lease) = body else { return }
            leaseAnswered(key, holder: sender, lease: lease, now: now)
        case .refresh(let key):
            if case .refreshed(let unknown) = body { refreshAnswered(key, unknown: unknown, by: sender, now: now) }
        case .check(let key, let offset):
            checkAnswered(key, offset: offset, body: body, from: sender, now: now)
        case .probeValues(let key, let slots):
            probeAnswered(key, slots: slots, body: body, from: sender, now: now)
        }
    }

    mutating func timedOut(_ request: PendingRequest, now: Instant) {
        switch request.purpose {
        case .lookup(let lookupID):
            guard lookups[lookupID] != nil, let expected = request.expected else { return }
            lookups[lookupID]!.lookup.failed(expected)
            advance(lookupID, now: now)
        case .moreValues(let lookupID, _):
            guard lookups[lookupID] != nil else { return }
            lookups[lookupID]!.extraRequests -= 1
            advance(lookupID, now: now)
        case .bootstrapPing(let request):
            bootstrapPingDone(request, now: now)
        case .announce, .replicate:
            break
        case .peerExchange:
            peersExchanged(nil, from: nil, now: now)
        case .introduce(let named, let via, let attempt):
            introduced(named.id)
            introductionFailed(named, via: via, attempt: attempt, now: now)
        case .liveness(let member):
            probingMembers.remove(member)
        case .probe(let probed):
            if let admitted = table.probeFailed(probed, now: now), table.closerThanCount(admitted.id, limit: configuration.k) < configuration.k {
                neighbourhoodChanged(now: now)
            }
        case .store(let putID):
            guard puts[putID] != nil else { return }
            storeAnswered(putID)
        case .subscribe(let key):
            leaseAnswered(key, holder: nil, lease: 0, expected: request.expected, now: now)
        case .refresh:
            break
        case .check(let key, _), .probeValues(let key, _):
            askNextHolder(key, now: now)
        }
    }

    /// Keeps the newest verified copy per slot; asks for the rest of a long value list.
    mutating func absorb(_ records: [RecordCopy], more: Bool, offset: Int, from sender: Contact, into lookupID: UInt64, now: Instant) {
        let key = RecordKey(point: lookups[lookupID]!.lookup.target)
        for copy in records where copy.record.key == key {
            let slot = copy.record.slot
            if let have = lookups[lookupID]!.values[slot], have.record.sequence >= copy.record.sequence { continue }
            guard copy.remaining > 0, verifier.check(copy.record) == nil else {
                counters.rejections[.badSignature, default: 0] += 1
                continue
            }
            lookups[lookupID]!.values[slot] = copy
        }
        if more, !records.isEmpty {
            lookups[lookupID]!.extraRequests += 1
            let next = offset + records.count
            send(.findValue(key: key, offset: UInt16(clamping: next)), to: sender.endpoint, expecting: sender.id, purpose: .moreValues(lookupID, offset: next), now: now)
        }
    }

    mutating func bootstrapPingDone(_ request: RequestID, now: Instant) {
        guard let left = bootstraps[request] else { return }
        if left > 1 {
            bootstraps[request] = left - 1
        } else {
            bootstraps[request] = nil
            joined(request, now: now)
        }
    }

    /// The seeds have answered (or not): a structured node completes the bootstrap after
    /// its self-lookup, a node in direct exchange after its peer-exchange round.
    mutating func joined(_ request: RequestID, now: Instant) {
        joinWaiters.append(request)
        if isDirect { completeDirectJoins() } else { startJoin(now: now) }
    }

    /// Looks up our own id, unless a self-lookup for a join is running already.
    mutating func startJoin(now: Instant) {
        guard !joining else { return }
        joining = true
        startLookup(.join, target: id, now: now)
    }

    // MARK: finishing

    mutating func finish(_ active: ActiveLookup, now: Instant) {
        let report = LookupReport(
            target: active.lookup.target, closest: active.lookup.closest, hops: active.lookup.hops,
            queries: active.lookup.queries, duration: now.since(active.started))
        switch active.purpose {
        case .join:
            joining = false
            for request in joinWaiters { effects.append(.completed(request, .bootstrapped(contacts: table.count, report))) }
            joinWaiters.removeAll()
            announce(active.lookup, now: now)
            neighbourhoodChanged(now: now)
        case .rejoin:
            announce(active.lookup, now: now)
            neighbourhoodChanged(now: now)
        case .lookup(let request):
            effects.append(.completed(request, .lookup(report)))
        case .get(let request):
            let live = active.values.values.map(\.record).filter { !$0.isTombstone }.sorted { $0.slot < $1.slot }
            effects.append(.completed(request, .get(live, report)))
        case .put(let request, let records):
            let (holders, here) = storeHolders(report)
            storeRound(records, request: request, report: report, holders: holders, storeHere: here, now: now)
        case .republish(let records, thorough: true):
            // In full, to every one of the k closest.
            let all = Array(report.closest.prefix(configuration.k))
            storeRound(records, request: nil, report: report, holders: all, storeHere: false, now: now)
        case .republish(let records, thorough: false):
            let (holders, here) = storeHolders(report)
            refreshRound(records, holders: holders, storeHere: here, now: now)
        case .subscribe(let key):
            subscriptionLookupFinished(key, values: active.values, report: report, now: now)
        case .refreshBucket:
            break
        case .neighbourhood:
            announce(active.lookup, now: now)
            neighbourhoodChecked(now: now)
        }
    }

    /// Pings the candidates a join or neighbourhood lookup heard of but did not need to
    /// ask: just beyond our k closest are nodes that count us among *their* k closest
    /// (closeness is not symmetric in rank), and they learn of us only if we speak to them.
    /// Each is introduced to once (the memory is cleared when it grows past 8k ids).
    mutating func announce(_ lookup: Lookup, now: Instant) {
        var sent = 0
        for c in lookup.candidates where c.state == .notContacted && sent < configuration.k {
            let id = c.contact.id
            guard !announced.contains(id), !table.contains(id) else { continue }
            if announced.count >= 8 * configuration.k * configuration.k { announced.removeAll() }
            announced.insert(id)
            sent += 1
            send(.ping, to: c.contact.endpoint, expecting: id, purpose: .announce, now: now)
        }
    }

    /// Stores records (all under one key) on `holders` (the closest nodes a lookup found, or
    /// every member in direct exchange), and here when `storeHere`. A put has one record;
    /// the counts are per holder.
    mutating func storeRound(_ records: [Record], request: RequestID?, report: LookupReport, holders: [Contact], storeHere: Bool, now: Instant) {
        let putID = nextLookupID
        nextLookupID += 1
        var state = PutState(request: request, report: report, attempted: holders.count, acks: 0, outstanding: holders.count * records.count)
        if storeHere {
            state.attempted += 1
            for record in records {
                switch storeLocally(RecordCopy(record: record, remaining: record.ttl), now: now) {
                case .rejected(let r): state.rejections[r, default: 0] += 1
                default: state.acks += 1
                }
            }
        }
        puts[putID] = state
        for c in holders {
            for record in records { deliver(record, to: c, purpose: .store(putID), now: now) }
        }
        if state.outstanding == 0 { storeAnswered(putID, count: false) }
    }

    mutating func storeAnswered(_ putID: UInt64, count: Bool = true) {
        if count { puts[putID]!.outstanding -= 1 }
        guard let state = puts[putID], state.outstanding <= 0 else { return }
        puts[putID] = nil
        if let request = state.request {
            effects.append(.completed(request, .put(acks: state.acks, attempted: state.attempted, rejections: state.rejections, state.report)))
        }
    }

    /// Where a put or a periodic republish stores: the `storeReplicas` closest the lookup
    /// found, this node among them (`here`) when it is closer than the last of them.
    func storeHolders(_ report: LookupReport) -> (holders: [Contact], here: Bool) {
        let key = report.target
        let replicas = configuration.storeReplicas
        var holders = Array(report.closest.prefix(replicas))
        let here = holders.count < replicas || id.distance(to: key) < holders[replicas - 1].id.distance(to: key)
        if here, holders.count >= replicas { holders.removeLast() }
        return (holders, here)
    }
}
