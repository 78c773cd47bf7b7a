import Primitives

/// Overlay ids and merging (DESIGN.md's stage 4, growth).
///
/// - Every header carries the sender's overlay id once it has one. A node that has never
///   met anyone has none; it takes the id of the first node it hears from. A node without
///   one that is asked something and was never told of anyone to join (the first node, a
///   seed that came up alone) founds an overlay named after its own node id, and the asker
///   takes it from the answer. Joiners never found one: nodes joining at once through each
///   other would otherwise found many overlays that then have to merge.
/// - Two ids meet (a node of overlay X hears a valid message from a node of overlay Y, same
///   network): the overlays merge and the *smaller id survives* — every node that hears the
///   smaller id adopts it, so the surviving id spreads through ordinary traffic, and the
///   rule needs no agreement round. A node merges once per id it meets: the many other
///   nodes of the losing overlay that speak to it later take the surviving id from its
///   answers and start nothing here.
/// - A node that starts merging flags its messages for `mergeWindow`; a node of its (new)
///   overlay that hears the flag joins in, at most once per `mergeCooldown`. So both sides of
///   a merge take part, not just the side whose id changed.
/// - Taking part means: a self-lookup seeded with the node it heard (the paper's join, made
///   through the other side, so the routing table fills across; `mergeRejoinDelay` later, so
///   that a node that is itself merging has filled its table across before it is asked),
///   then after `mergeSettle` a republish of all own records and a fresh lookup per
///   subscription — own records land on the merged overlay's k closest, and subscriptions
///   find holders on both sides. When the window ends, both once more: a self-lookup from
///   its own table (its neighbours know both sides by then) and a republish, so a node that
///   heard of the merge from its own side, and rejoined through it, catches up. In
///   direct exchange it is a peer exchange with that node plus a flagged ping to every
///   member, so everyone meets everyone and the members hand each other their records.
/// - A partition is a merge of an overlay with itself: contacts dropped as dead are
///   remembered (`LostContacts`) and pinged again now and then; one that answers after
///   `lostProbeDelay` means the halves can talk again, and the node merges as above.
///
/// No record is lost: a record is never deleted by a merge; its owner puts it again into
/// the merged overlay, and until then a get (which runs to convergence and merges every
/// holder's values) still finds the copies its old holders keep.
extension DHTNode {
    /// Why a merge started; the counter label.
    enum MergeCause: String { case overlay, flag, healed }

    /// Looks at the overlay id (and merging flag) of a valid message from `sender`.
    mutating func observeOverlay(_ header: MessageHeader, from sender: Contact, request: Bool, now: Instant) {
        let wasLost = lost.remove(sender.id)
        switch (overlay, header.overlay) {
        case (nil, nil):
            if request, seeds.isEmpty { adoptOverlay(id.w0) }
        case (nil, let theirs?):
            adoptOverlay(theirs)
        case (_?, nil):
            break  // a newcomer: it takes ours from this answer
        case (let ours?, let theirs?) where ours != theirs:
            // Once per id met: its other nodes will take ours from our answers.
            guard merge.absorbed.insert(max(ours, theirs)) else { return }
            if theirs < ours {
                adoptOverlay(theirs)
                if !merge.active { merge.previous = ours }
            }
            startMerge(through: sender, cause: .overlay, now: now)
        case (_?, _?):
            if let wasLost, now.since(wasLost) >= configuration.lostProbeDelay {
                if !startMerge(through: sender, cause: .healed, now: now) { scheduleCatchUp(now: now) }
            } else if header.merging {
                startMerge(through: sender, cause: .flag, now: now)
            }
        }
    }

    /// The overlay id this node's messages carry. A node that lost a merge names its former
    /// overlay until its merge window ends: nodes of the other side that hear it then merge
    /// *through it* — a node of the side they have to reach — instead of taking the new id
    /// from a node of their own side, which would leave their routing tables one-sided.
    var advertisedOverlay: UInt64? { merge.previous ?? overlay }

    mutating func adoptOverlay(_ id: UInt64) {
        overlay = id
        counters.overlayChanges += 1
    }

    /// Starts (or joins in on) a merge through `peer`, a node of the merged overlay; false
    /// when the cooldown holds it back.
    @discardableResult
    mutating func startMerge(through peer: Contact, cause: MergeCause, now: Instant) -> Bool {
        // Meeting another overlay always counts; a flag or a healed contact only once per cooldown.
        if cause != .overlay, let last = merge.startedAt, now.since(last) < configuration.mergeCooldown { return false }
        counters.merges[cause.rawValue, default: 0] += 1
        merge.startedAt = now
        merge.endsAt = now + configuration.mergeWindow
        if isDirect {
            exchangesInFlight += 1
            send(.findNode(target: id), to: peer.endpoint, expecting: peer.id, purpose: .peerExchange, now: now)
            for member in mesh.contacts where member.id != peer.id {
                send(.ping, to: member.endpoint, expecting: member.id, purpose: .announce, now: now)
            }
        } else {
            // The rejoin waits a moment: `peer` is often merging itself, and its own rejoin
            // (through the other side) is what fills its answers with the other side's nodes.
            merge.rejoin = (peer, now + configuration.mergeRejoinDelay.jittered(0.25, using: &rng))
            merge.settleAt = now + configuration.mergeSettle.jittered(0.25, using: &rng)
        }
        return true
    }

    /// A healed contact during a merge's cooldown: no merge, but a catch-up once the heal
    /// has settled (`catchUp`).
    mutating func scheduleCatchUp(now: Instant) {
        guard !isDirect, merge.catchUpAt == nil else { return }
        merge.catchUpAt = now + configuration.mergeSettle.jittered(0.25, using: &rng)
    }

    /// After a heal the cooldown kept from merging: what changed while cut may have missed
    /// the holders on the other side, and with them the subscribers they serve. Own records
    /// put within the cooldown go again, in full, to the k closest a full lookup finds: a
    /// holder that lacks one stores it and notifies its subscribers. (Looking every
    /// subscription up again as well cost nearly three times the bytes during cycled cuts
    /// and healed no faster: `z2z-bench faults partitions`, RELIABILITY.md finding 7.)
    mutating func catchUp(now: Instant) {
        counters.catchUps += 1
        republishAll(now: now, putWithin: configuration.mergeCooldown)
    }

    /// Ends the merge window, and republishes once the merged routing table has filled.
    mutating func mergeTimers(now: Instant) {
        if let (peer, at) = merge.rejoin, at <= now {
            merge.rejoin = nil
            if !isDirect { startLookup(.rejoin, target: id, now: now, seeds: [peer]) }
        }
        if let at = merge.catchUpAt, at <= now {
            merge.catchUpAt = nil
            if !isDirect, merge.settleAt == nil { catchUp(now: now) }
        }
        if let at = merge.settleAt, at <= now {
            merge.settleAt = nil
            if !isDirect {
                republishAll(now: now)
                relookupSubscriptions(now: now)
            }
        }
        if let at = merge.endsAt, at <= now {
            merge.endsAt = nil
            merge.previous = nil
            // Once more from our own table, which by now knows both sides near us: a node whose
            // rejoin went through its own side (it heard the news from its side) catches up.
            if !isDirect {
                startLookup(.rejoin, target: id, now: now)
                merge.settleAt = now + configuration.mergeSettle.jittered(0.25, using: &rng)
            }
        }
    }

    /// Finds every subscription's holders afresh (entering structure; merging).
    mutating func relookupSubscriptions(now: Instant) {
        for key in subscriptions.keys.sorted() {
            subscriptions[key]!.relookupAt = now + configuration.subscriptionRelookupInterval.jittered(0.2, using: &rng)
            startLookup(.subscribe(key), target: key.point, now: now)
        }
    }

    /// Pings one remembered dead contact per maintenance period (the oldest first). In
    /// direct exchange `probeLostMembers` does this instead.
    mutating func probeLostContacts(now: Instant) {
        lost.forget(olderThan: configuration.lostMemory, now: now)
        guard !isDirect, let contact = lost.next(lostFor: configuration.lostProbeDelay, now: now) else { return }
        send(.ping, to: contact.endpoint, expecting: contact.id, purpose: .announce, now: now)
    }

    /// Direct exchange: pings every dropped member on its own backoff
    /// (`lostMemberProbeFirst` after the drop, doubling up to `lostMemberProbeMax`). A small
    /// overlay has few of them, and one round per maintenance period would leave a member
    /// dropped during a cut unmet for minutes after the heal: both sides dropped each other,
    /// so neither sends the other anything else.
    mutating func probeLostMembers(now: Instant) {
        for contact in lost.dueMemberProbes(now: now, first: configuration.lostMemberProbeFirst, max: configuration.lostMemberProbeMax) {
            send(.ping, to: contact.endpoint, expecting: contact.id, purpose: .announce, now: now)
        }
    }
}

/// Where a node stands in a merge.
struct MergeState: Sendable {
    var startedAt: Instant?
    /// The end of the window in which messages carry the merging flag.
    var endsAt: Instant?
    /// When to republish own records and re-find subscription holders.
    var settleAt: Instant?
    /// When to catch up after a heal that started no merge (`DHTNode.catchUp`).
    var catchUpAt: Instant?
    /// The id this node had before it lost the merge; its messages still name it until the
    /// window ends (`DHTNode.advertisedOverlay`).
    var previous: UInt64?
    /// The self-lookup through a node of the merged overlay, and when.
    var rejoin: (peer: Contact, at: Instant)?
    /// Overlay ids that lost a merge this node took part in (its own former id, or the
    /// other side's); hearing them again starts nothing. Bounded: cleared past 64.
    var absorbed = BoundedSet(capacity: 64)

    var active: Bool { endsAt != nil }
}

/// A set of overlay ids that forgets everything when it grows past `capacity` (ids of
/// finished merges are rarely heard again; forgetting one costs at most one more merge).
struct BoundedSet: Sendable {
    let capacity: Int
    private var ids = Set<UInt64>()

    init(capacity: Int) { self.capacity = capacity }

    /// Inserts `id`; false when it was there already.
    mutating func insert(_ id: UInt64) -> Bool {
        if ids.count >= capacity { ids.removeAll() }
        return ids.insert(id).inserted
    }
}

/// Contacts dropped after unanswered requests, remembered for `Configuration.lostMemory`
/// so that a healed partition is noticed: the two halves otherwise forget each other and
/// would never speak again. Bounded; the oldest are forgotten first.
struct LostContacts: Sendable {
    static let capacity = 64
    private(set) var entries: [NodeID: (contact: Contact, at: Instant)] = [:]
    /// Direct exchange's member probes: when each is next due and the wait after it.
    private var memberProbes: [NodeID: (at: Instant, wait: Interval)] = [:]
    /// Round-robin position among the entries, ordered by id.
    private var cursor = 0

    var count: Int { entries.count }

    mutating func add(_ contact: Contact, at now: Instant) {
        entries[contact.id] = (contact, now)
        memberProbes[contact.id] = nil
        if entries.count > Self.capacity, let oldest = entries.min(by: { ($0.value.at, $0.key) < ($1.value.at, $1.key) }) {
            entries[oldest.key] = nil
            memberProbes[oldest.key] = nil
        }
    }

    /// Forgets `id`; returns when it was lost, if it was.
    mutating func remove(_ id: NodeID) -> Instant? {
        guard !entries.isEmpty else { return nil }
        memberProbes[id] = nil
        return entries.removeValue(forKey: id)?.at
    }

    mutating func forget(olderThan age: Interval, now: Instant) {
        guard !entries.isEmpty else { return }
        entries = entries.filter { now.since($0.value.at) < age }
        memberProbes = memberProbes.filter { entries[$0.key] != nil }
    }

    /// When the next member probe is due (nil before the first `dueMemberProbes` call
    /// after an `add`, which schedules it).
    var nextMemberProbe: Instant? { memberProbes.values.map(\.at).min() }

    /// Entries whose member probe is due, ordered by id; each is scheduled again after
    /// twice its last wait (at most `max`). An entry not probed yet is due `first` after it
    /// was lost.
    mutating func dueMemberProbes(now: Instant, first: Interval, max: Interval) -> [Contact] {
        var out: [Contact] = []
        for id in entries.keys.sorted() {
            let entry = entries[id]!
            let probe = memberProbes[id] ?? (entry.at + first, first)
            guard probe.at <= now else {
                memberProbes[id] = probe
                continue
            }
            out.append(entry.contact)
            let wait = Swift.min(probe.wait * 2, max)
            memberProbes[id] = (now + wait, wait)
        }
        return out
    }

    /// The next entry (in turn) lost at least `age` ago.
    mutating func next(lostFor age: Interval, now: Instant) -> Contact? {
        let due = entries.values.filter { now.since($0.at) >= age }.map(\.contact).sorted { $0.id < $1.id }
        guard !due.isEmpty else { return nil }
        cursor = (cursor + 1) % due.count
        return due[cursor]
    }
}
