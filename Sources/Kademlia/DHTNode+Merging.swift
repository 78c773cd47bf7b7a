/// Overlay ids and merging (DESIGN.md's stage 4, growth).
///
/// - Every header carries the sender's overlay id once it has one. A node that has never
///   met anyone has none; it takes the id of the first node it hears from. Two such nodes
///   meeting found an overlay named after the smaller of their node ids (both compute the
///   same name, so neither has to win).
/// - Two ids meet (a node of overlay X hears a valid message from a node of overlay Y, same
///   network): the overlays merge and the *smaller id survives* — every node that hears the
///   smaller id adopts it, so the surviving id spreads through ordinary traffic, and the
///   rule needs no agreement round.
/// - A node that starts merging flags its messages for `mergeWindow`; a node of its (new)
///   overlay that hears the flag joins in, at most once per `mergeCooldown`. So both sides of
///   a merge take part, not just the side whose id changed.
/// - Taking part means: a self-lookup seeded with the node it heard (the paper's join, made
///   through the other side, so the routing table fills across), then after `mergeSettle`
///   a republish of all own records and a fresh lookup per subscription — own records land
///   on the merged overlay's k closest, and subscriptions find holders on both sides. In
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
    mutating func observeOverlay(_ header: MessageHeader, from sender: Contact, now: Instant) {
        let wasLost = lost.remove(sender.id)
        switch (overlay, header.overlay) {
        case (nil, nil):
            adoptOverlay(min(id, sender.id).w0)
        case (nil, let theirs?):
            adoptOverlay(theirs)
        case (_?, nil):
            break  // a newcomer: it takes ours from this answer
        case (let ours?, let theirs?) where ours != theirs:
            if theirs < ours { adoptOverlay(theirs) }
            startMerge(through: sender, cause: .overlay, now: now)
        case (_?, _?):
            if let wasLost, now.since(wasLost) >= configuration.lostProbeDelay {
                startMerge(through: sender, cause: .healed, now: now)
            } else if header.merging {
                startMerge(through: sender, cause: .flag, now: now)
            }
        }
    }

    mutating func adoptOverlay(_ id: UInt64) {
        overlay = id
        counters.overlayChanges += 1
    }

    /// Starts (or joins in on) a merge through `peer`, a node of the merged overlay.
    mutating func startMerge(through peer: Contact, cause: MergeCause, now: Instant) {
        // Meeting another overlay always counts; a flag or a healed contact only once per cooldown.
        if cause != .overlay, let last = merge.startedAt, now.since(last) < configuration.mergeCooldown { return }
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
            startLookup(.rejoin, target: id, now: now, seeds: [peer])
            merge.settleAt = now + configuration.mergeSettle.jittered(0.25, using: &rng)
        }
    }

    /// Ends the merge window, and republishes once the merged routing table has filled.
    mutating func mergeTimers(now: Instant) {
        if let at = merge.settleAt, at <= now {
            merge.settleAt = nil
            if !isDirect {
                republishAll(now: now)
                relookupSubscriptions(now: now)
            }
        }
        if let at = merge.endsAt, at <= now { merge.endsAt = nil }
    }

    /// Finds every subscription's holders afresh (entering structure; merging).
    mutating func relookupSubscriptions(now: Instant) {
        for key in subscriptions.keys.sorted() {
            subscriptions[key]!.relookupAt = now + configuration.subscriptionRelookupInterval.jittered(0.2, using: &rng)
            startLookup(.subscribe(key), target: key.point, now: now)
        }
    }

    /// Pings one remembered dead contact per maintenance period (the oldest first).
    mutating func probeLostContacts(now: Instant) {
        lost.forget(olderThan: configuration.lostMemory, now: now)
        guard let contact = lost.next(lostFor: configuration.lostProbeDelay, now: now) else { return }
        send(.ping, to: contact.endpoint, expecting: contact.id, purpose: .announce, now: now)
    }
}

/// Where a node stands in a merge.
struct MergeState: Sendable {
    var startedAt: Instant?
    /// The end of the window in which messages carry the merging flag.
    var endsAt: Instant?
    /// When to republish own records and re-find subscription holders.
    var settleAt: Instant?

    var active: Bool { endsAt != nil }
}

/// Contacts dropped after unanswered requests, remembered for `Configuration.lostMemory`
/// so that a healed partition is noticed: the two halves otherwise forget each other and
/// would never speak again. Bounded; the oldest are forgotten first.
struct LostContacts: Sendable {
    static let capacity = 64
    private(set) var entries: [NodeID: (contact: Contact, at: Instant)] = [:]
    /// Round-robin position among the entries, ordered by id.
    private var cursor = 0

    var count: Int { entries.count }

    mutating func add(_ contact: Contact, at now: Instant) {
        entries[contact.id] = (contact, now)
        if entries.count > Self.capacity, let oldest = entries.min(by: { ($0.value.at, $0.key) < ($1.value.at, $1.key) }) {
            entries[oldest.key] = nil
        }
    }

    /// Forgets `id`; returns when it was lost, if it was.
    mutating func remove(_ id: NodeID) -> Instant? {
        guard !entries.isEmpty else { return nil }
        return entries.removeValue(forKey: id)?.at
    }

    mutating func forget(olderThan age: Interval, now: Instant) {
        guard !entries.isEmpty else { return }
        entries = entries.filter { now.since($0.value.at) < age }
    }

    /// The next entry (in turn) lost at least `age` ago.
    mutating func next(lostFor age: Interval, now: Instant) -> Contact? {
        let due = entries.values.filter { now.since($0.at) >= age }.map(\.contact).sorted { $0.id < $1.id }
        guard !due.isEmpty else { return nil }
        cursor = (cursor + 1) % due.count
        return due[cursor]
    }
}
