import Primitives

/// Periodic work: bucket refresh, the neighbourhood check, republishing own records,
/// expiry of held values and leases.
extension DHTNode {
    mutating func maintain(now: Instant) {
        _ = store.removeExpired(now: now)
        subscribers.removeExpired(now: now)
        bridged = bridged.filter { $0.value > now }
        leaveStructureIfAlone()
        reseedIfAlone(now: now)
        probeLostContacts(now: now)
        if isDirect { checkMembers(now: now) } else { refreshIdleBuckets(now: now) }
        keepHolderMappings(now: now)
        republish(now: now)
        maintainSubscriptions(now: now)
    }

    /// Refreshes buckets that have been idle for `bucketRefreshInterval` and are not full
    /// (a full bucket gains nothing from a lookup). Buckets inside the neighbourhood are
    /// left to the neighbourhood check.
    mutating func refreshIdleBuckets(now: Instant) {
        guard table.count > 0 else { return }
        let neighbourhoodStart = table.closest(to: id, count: configuration.k).last.map { table.bucketIndex(for: $0.id) } ?? 0
        for index in 0..<min(neighbourhoodStart, table.buckets.count) {
            let bucket = table.buckets[index]
            guard now.since(bucket.lastActivity) >= configuration.bucketRefreshInterval else { continue }
            table.touch(bucket: index, now: now)
            guard bucket.entries.count < configuration.k else { continue }
            // Ask the one contact closest to a random point of the range; whoever it names
            // that we do not know is asked in turn. A range with nothing new costs one
            // request instead of a full lookup's twenty-odd.
            let target = id.randomPoint(sharingPrefix: index, using: &rng)
            let seeds = table.closest(to: target, count: configuration.k)
            startLookup(.refreshBucket, target: target, now: now, seeds: seeds, presumedAlive: Set(seeds.dropFirst().map(\.id)))
        }
    }

    /// A newcomer entered our k closest: check the neighbourhood again soon.
    mutating func neighbourhoodChanged(now: Instant) {
        neighbourhood.changed = true
        neighbourhood.quietChecks = 0
        neighbourhood.interval = configuration.neighbourhoodRefreshMin
        let soon = now + configuration.neighbourhoodRefreshMin.jittered(0.25, using: &rng)
        if !neighbourhood.running, neighbourhood.at.map({ $0 > soon }) ?? true { neighbourhood.at = soon }
    }

    /// Asks α members of the neighbourhood for our own id, taking turns so that a few
    /// checks ask them all; whoever they name that is closer is asked in turn (a lookup
    /// that presumes the rest of the neighbourhood alive).
    mutating func refreshNeighbourhood(now: Instant) {
        let seeds = table.closest(to: id, count: configuration.k)
        guard !seeds.isEmpty else { return }
        // While the neighbourhood is changing ask α at a time; once it is quiet, one.
        let breadth = neighbourhood.interval > configuration.neighbourhoodRefreshMin ? 1 : configuration.alpha
        var asked = Set<NodeID>()
        for _ in 0..<min(breadth, seeds.count) {
            asked.insert(seeds[neighbourhood.cursor % seeds.count].id)
            neighbourhood.cursor &+= 1
        }
        neighbourhood.running = true
        neighbourhood.changed = false
        neighbourhood.checks &+= 1
        // Every other check looks around a neighbour in the farther half of our k closest
        // instead of around us: the nodes we miss sit at the edge of our neighbourhood, and
        // nodes near that edge know them better than nodes near us do.
        var target = id
        if neighbourhood.checks % 2 == 0, seeds.count > 1 {
            target = seeds[seeds.count / 2 + Int(rng.next() % UInt64(seeds.count - seeds.count / 2))].id
            // Only nodes that would be among our own k closest are worth asking.
            let radius = seeds.last!.id.distance(to: id)
            let around = table.closest(to: target, count: configuration.k).filter { $0.id.distance(to: id) <= radius }
            startLookup(
                .neighbourhood, target: target, now: now, seeds: around,
                presumedAlive: Set(around.map(\.id)).subtracting(asked), scope: Lookup.Scope(center: id, radius: radius))
            return
        }
        startLookup(.neighbourhood, target: target, now: now, seeds: seeds, presumedAlive: Set(seeds.map(\.id)).subtracting(asked))
    }

    mutating func neighbourhoodChecked(now: Instant) {
        neighbourhood.running = false
        if neighbourhood.changed {
            neighbourhood.interval = configuration.neighbourhoodRefreshMin
            neighbourhood.quietChecks = 0
        } else {
            // Back off only once a full round of turns (every neighbour asked) found
            // nothing new.
            neighbourhood.quietChecks += 1
            let round = (configuration.k + configuration.alpha - 1) / configuration.alpha
            if neighbourhood.quietChecks >= round {
                neighbourhood.interval = min(neighbourhood.interval * 2, configuration.neighbourhoodRefreshMax)
            }
        }
        neighbourhood.changed = false
        neighbourhood.at = now + neighbourhood.interval.jittered(0.25, using: &rng)
    }

    /// This node's wall clock (Unix seconds), for issue times; nil without one.
    func wallClock(_ now: Instant) -> UInt64? { configuration.wallClockAtZero.map { $0 &+ now.nanoseconds / 1_000_000_000 } }

    /// The clock `record` is held to: its owner's, as reckoned here (`OwnerClocks`); ours for
    /// our own records; its own issue time (taken as fresh) for an owner not reckoned yet.
    /// Nil without a wall clock.
    func ownerWall(_ record: Record, now: Instant) -> UInt64? {
        guard let ours = wallClock(now) else { return nil }
        if record.owner == id { return ours }
        return ownerClocks.wall(of: record.owner, ourWall: ours, now: now) ?? record.issuedAt
    }

    /// A verified record came in: one more sample of its owner's clock.
    mutating func reckon(_ record: Record, now: Instant) {
        guard record.owner != id, let ours = wallClock(now) else { return }
        ownerClocks.observe(record.owner, issuedAt: record.issuedAt, ourWall: ours, now: now)
    }

    /// An own record signed again with the current issue time (unchanged when it is not
    /// ours, or the node keeps no wall clock).
    func stamped(_ record: Record, now: Instant) -> Record {
        guard let wall = wallClock(now) else { return record }
        return identity.reissued(record, at: wall)
    }

    /// Remembers an own record for republishing (replacing the slot's previous one).
    mutating func remember(_ record: Record, now: Instant) {
        let lifetime = Interval.seconds(Double(record.ttl))
        published[record.key, default: [:]][record.valueID] = Published(
            record: record,
            republishAt: now + (lifetime * configuration.republishFraction).jittered(0.1, using: &rng),
            // A tombstone goes to newcomers as long as a copy of what it deleted may be taken.
            until: record.isTombstone ? now + lifetime + .seconds(configuration.wallClockAtZero == nil ? 0 : Double(Record.clockSkew)) : nil,
            putAt: now)
    }

    /// Republishes the own records that are due, by id (`DHTNode+Refresh`), on the
    /// `storeReplicas` closest. One short lookup per key serves all of the
    /// key's values: those due now and those that would fall due within the next
    /// maintenance periods ride along, so a key's values stay in step.
    mutating func republish(now: Instant, thorough: Bool = false) {
        let horizon = now + configuration.maintenancePeriod * 4
        for key in published.keys.sorted() {
            for (valueID, p) in published[key]! where p.until.map({ $0 <= now }) ?? false { published[key]![valueID] = nil }
            if published[key]!.isEmpty {
                published[key] = nil
                continue
            }
            guard published[key]!.values.contains(where: { $0.republishAt <= now }) else { continue }
            var due: [Record] = []
            for valueID in published[key]!.keys.sorted() where published[key]![valueID]!.republishAt <= horizon {
                let p = published[key]![valueID]!
                published[key]![valueID]!.republishAt = now + (Interval.seconds(Double(p.record.ttl)) * configuration.republishFraction).jittered(0.1, using: &rng)
                // Issued again: the copies holders take from now on are fresh (`Record.issuedAt`).
                let record = stamped(p.record, now: now)
                published[key]![valueID]!.record = record
                due.append(record)
            }
            if isDirect, configuration.wallClockAtZero != nil {
                // In full: bridges forward what they hold (`DHTNode+Bridges`), and a copy
                // renewed by id alone would keep its first issue time and go stale.
                for record in due {
                    _ = storeLocally(RecordCopy(record: record, remaining: record.ttl), now: now)
                    for member in mesh.contacts { deliver(record, to: member, purpose: .replicate, now: now) }
                }
            } else if isDirect {
                refreshRound(due, holders: mesh.contacts, storeHere: true, now: now)
            } else if thorough {
                // After a merge the routing table is still filling: a full lookup to the k
                // closest, and the records in full to all of them (`DHTNode+Lookups`).
                startLookup(.republish(due, thorough: true), target: key.point, now: now)
            } else {
                // Only the known node closest to the key is asked (it names any closer
                // node we do not know, who is asked in turn); the rest of our closest are
                // presumed alive, and their refresh answers (or timeouts) tell.
                let seeds = table.closest(to: key.point, count: configuration.storeReplicas)
                startLookup(
                    .republish(due, thorough: false), target: key.point, now: now, seeds: seeds, presumedAlive: Set(seeds.dropFirst().map(\.id)),
                    width: configuration.storeReplicas)
            }
        }
    }

    /// Republishes every own record now (entering structure; merging).
    /// With `putWithin`, only the records put that recently (a catch-up after a heal).
    mutating func republishAll(now: Instant, putWithin: Interval? = nil) {
        for key in published.keys.sorted() {
            for valueID in published[key]!.keys where putWithin.map({ now.since(published[key]![valueID]!.putAt) <= $0 }) ?? true {
                published[key]![valueID]!.republishAt = now
            }
        }
        republish(now: now, thorough: true)
    }
}

/// One of this node's own records, republished until replaced (tombstones: for one lifetime).
struct Published: Sendable {
    var record: Record
    var republishAt: Instant
    var until: Instant?
    /// When this version was put.
    var putAt: Instant
}

/// The adaptive timer of the neighbourhood check.
struct NeighbourhoodTimer: Sendable {
    var at: Instant?
    var interval: Interval = .seconds(2)
    var running = false
    var changed = false
    /// Checks in a row that found nobody new.
    var quietChecks = 0
    /// Which neighbours the next check asks.
    var cursor = 0
    var checks = 0
}
