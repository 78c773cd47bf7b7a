import Primitives

/// Direct exchange, the interconnection stage: while the overlay is small (fewer than
/// `Configuration.structureThreshold` members, itself included) a node runs no lookups.
///
/// - Membership (`Mesh`): every node it hears from is a member. Meeting a new member, it
///   asks that member whom it knows (`findNode` of its own id, answered from the member's
///   mesh: peer exchange) and introduces itself (a ping) to everyone named that it did not
///   know, so a node that knows one member learns the whole mesh in two round trips. A
///   bootstrap completes when that round is over.
/// - Records: a put goes to every member (full replication); republishing goes to every
///   member too. A member asking for its own id has just met us (or restarted: it may be
///   known to us and still hold nothing), so it is handed our own records before the
///   answer; by the end of its round it holds every member's records.
/// - Reads: every member holds every value, so a get answers from the local store and a
///   subscription is a local lease — fed by every member pushing its own changes.
/// - Delivery: a store a member does not acknowledge is sent again with backoff until it
///   does or is dropped (`Redelivery`), so a datagram lost to loss or a short cut costs
///   seconds, not the owner's next republish.
/// - Across NAT: members that cannot reach each other get each other's records through a
///   member both reach (`DHTNode+Bridges`).
/// - Liveness: a member silent for `memberProbeInterval` is pinged; `maxMemberFailures`
///   unanswered requests in a row remove it. A removed member is pinged again with backoff
///   (`probeLostMembers`); when it answers (a healed partition) it is met anew, and the
///   two hand each other their own records.
///
/// The routing table is kept up to date all along, so the switch to structure starts from
/// everything the node knows: a self-lookup, a republish of its own records to the k
/// closest and a lookup per subscription. The switch happens when the mesh reaches the
/// threshold, or when the node hears from a structured node (header flag), so one member
/// crossing the threshold takes the whole mesh along; a node that joins a structured
/// overlay goes straight to structure. There is no switch back while anyone is known
/// (hysteresis): a structured overlay that shrinks costs a little more per put, whereas
/// switching back and forth would cost a republish of everything each way. Only a node
/// that knows nobody any more starts over in direct exchange.
extension DHTNode {
    /// How records move: to every member, or through the DHT.
    enum ExchangeMode: Sendable { case direct, structure }

    var isDirect: Bool { mode == .direct }

    /// A member we did not know spoke to us. Records go both ways: it hands us its own when
    /// we ask for our id, and we hand it ours, because it may still count us as a member
    /// (after a partition that only we noticed) and then never asks.
    mutating func memberJoined(_ member: Contact, now: Instant) {
        unreachable[member.id] = nil
        exchangesInFlight += 1
        handOwnRecords(to: member, now: now)
        send(.findNode(target: id), to: member.endpoint, expecting: member.id, purpose: .peerExchange, now: now)
        if mesh.count + 1 >= configuration.structureThreshold { enterStructure(now: now) }
    }

    /// A member asked for its own id: hand it our own records (they go out before the answer).
    mutating func handOwnRecords(to member: Contact, now: Instant) {
        for record in ownRecords(now: now) { deliver(record, to: member, purpose: .replicate, now: now) }
    }

    /// Sends a store to a member; in direct exchange it is kept until acknowledged and sent
    /// again with backoff meanwhile (`Redelivery`).
    mutating func deliver(_ record: Record, to member: Contact, purpose: PendingRequest.Purpose, now: Instant) {
        sendStore(record, to: member, purpose: purpose, tracked: isDirect, now: now)
        guard isDirect else { return }
        if !redelivery.sent(record, to: member, now: now) { counters.limitHits["redelivery_per_member", default: 0] += 1 }
    }

    /// Sends the unacknowledged stores that are due again.
    mutating func redeliver(now: Instant) {
        guard !redelivery.isEmpty else { return }
        for (member, record) in redelivery.due(now: now) {
            counters.redeliveries += 1
            sendStore(record, to: member, purpose: .replicate, tracked: true, now: now)
        }
    }

    /// Sends a store; when `tracked`, its acknowledgement clears the record from `Redelivery`.
    private mutating func sendStore(_ record: Record, to member: Contact, purpose: PendingRequest.Purpose, tracked: Bool, now: Instant) {
        let transaction = send(
            .store(RecordCopy(record: record, remaining: record.ttl)), to: member.endpoint, expecting: member.id, purpose: purpose, now: now)
        if tracked { pending[transaction]?.redelivers = Redelivery.Ref(key: record.key, slot: record.slot, sequence: record.sequence) }
    }

    /// A member (`namer`) answered our peer exchange (`contacts` is nil when it did not
    /// answer): introduce ourselves to those we do not know.
    mutating func peersExchanged(_ contacts: [Contact]?, from namer: Contact?, now: Instant) {
        exchangesInFlight = max(0, exchangesInFlight - 1)
        if let me = contacts?.first(where: { $0.id == id }) { observedEndpoint = me.endpoint }
        if isDirect, let namer {
            for c in contacts ?? [] where c.id != id && !mesh.contains(c.id) && !introducing.contains(c.id) {
                introducing.insert(c.id)
                send(.ping, to: c.endpoint, expecting: c.id, purpose: .introduce(c, via: namer, attempt: 1), now: now)
            }
        }
        completeDirectJoins()
    }

    mutating func introduced(_ id: NodeID) {
        introducing.remove(id)
        completeDirectJoins()
    }

    /// Bootstraps in direct exchange complete once the peer-exchange round is over.
    mutating func completeDirectJoins() {
        guard isDirect, exchangesInFlight == 0, introducing.isEmpty, !joinWaiters.isEmpty else { return }
        let report = LookupReport(target: id, closest: mesh.closest(to: id, count: configuration.k), hops: 0, queries: 0, duration: .zero)
        for request in joinWaiters { effects.append(.completed(request, .bootstrapped(contacts: mesh.count, report))) }
        joinWaiters.removeAll()
    }

    /// Leaves direct exchange for the DHT.
    mutating func enterStructure(now: Instant) {
        guard isDirect else { return }
        mode = .structure
        // Tell the members at once (the flag rides on the ping): they follow within a round trip.
        for member in mesh.contacts { send(.ping, to: member.endpoint, expecting: member.id, purpose: .announce, now: now) }
        mesh.removeAll()
        redelivery.removeAll()
        introducing.removeAll()
        unreachable.removeAll()
        bridged.removeAll()
        exchangesInFlight = 0
        // Bootstraps waiting for the peer exchange now wait for the self-lookup.
        startJoin(now: now)
        republishAll(now: now)
        relookupSubscriptions(now: now)
    }

    /// A structured node that knows nobody any more starts over in direct exchange.
    mutating func leaveStructureIfAlone() {
        guard mode == .structure, table.count == 0, lookups.isEmpty else { return }
        mode = .direct
    }

    /// Own records not yet past their republishing life, by key and value id.
    func ownRecords(now: Instant) -> [Record] {
        published.keys.sorted().flatMap { key in
            published[key]!.keys.sorted().compactMap { valueID -> Record? in
                let p = published[key]![valueID]!
                return p.until.map { $0 > now } ?? true ? p.record : nil
            }
        }
    }

    // MARK: commands in direct exchange

    mutating func directPut(_ records: [Record], request: RequestID?, now: Instant) {
        guard let key = records.first?.key else { return }
        let members = mesh.contacts
        let report = LookupReport(
            target: key.point, closest: mesh.closest(to: key.point, count: configuration.k), hops: members.isEmpty ? 0 : 1,
            queries: 0, duration: .zero)
        storeRound(records, request: request, report: report, holders: members, storeHere: true, now: now)
    }

    mutating func directGet(_ key: RecordKey, request: RequestID, now: Instant) {
        let live = store.copies(for: key, now: now).map(\.record).filter { !$0.isTombstone }
        effects.append(.completed(request, .get(live, LookupReport(target: key.point, closest: [], hops: 0, queries: 0, duration: .zero))))
    }

    /// A subscription in direct exchange is a lease on this node's own store, which every
    /// member feeds.
    mutating func subscribeLocally(_ key: RecordKey, now: Instant) {
        renewOwnLease(key, now: now)
        leaseAtBridges(key, now: now)
        for copy in store.copies(for: key, now: now) { reportChange(copy, key: key, now: now) }
        subscriptions[key]!.renewAt = now + .seconds(Double(configuration.subscriptionLease) / 2).jittered(0.1, using: &rng)
        subscriptionEstablished(key)
    }

    mutating func renewOwnLease(_ key: RecordKey, now: Instant) {
        let me = Contact(id: id, endpoint: Endpoint(address: .v4(0), port: 0))
        let granted = subscribers.subscribe(me, key: key, lease: configuration.subscriptionLease, now: now)
        subscriptions[key]!.holders[id] = (me, now + .seconds(Double(granted)))
    }

    // MARK: maintenance in direct exchange

    /// A node that knows nobody pings its seeds again every `reseedInterval`: the seed may
    /// not have been up (or not been a leader) when it bootstrapped, or a datagram was lost.
    mutating func reseedIfAlone(now: Instant) {
        guard stage == .bootstrapping, !seeds.isEmpty, nextReseed.map({ now >= $0 }) ?? true else { return }
        nextReseed = now + configuration.reseedInterval.jittered(0.2, using: &rng)
        for seed in seeds { send(.ping, to: seed, expecting: nil, purpose: .announce, now: now) }
    }

    /// Pings members that have been silent for a while (behind NAT: for `natKeepalive`).
    mutating func checkMembers(now: Instant) {
        let interval = behindNAT ? min(configuration.memberProbeInterval, configuration.natKeepalive) : configuration.memberProbeInterval
        guard now.nanoseconds > interval.nanoseconds else { return }
        let since = Instant(nanoseconds: now.nanoseconds - interval.nanoseconds)
        for member in mesh.silent(since: since) where !probingMembers.contains(member.id) {
            probingMembers.insert(member.id)
            send(.ping, to: member.endpoint, expecting: member.id, purpose: .liveness(member.id), now: now)
        }
    }
}
