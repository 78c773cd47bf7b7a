import Primitives

// The routing table: k-buckets over the XOR metric, split only along the local id's path.
//
// Where it deviates from the paper (Maymounkov & Mazières, 2002), in the manner of
// rust-libp2p's `kbucket` notes:
//
// - Buckets are indexed by the number of leading zero bits of the distance to the local
//   id. Bucket `i < last` holds contacts whose distance has exactly `i` leading zeros; the
//   last bucket holds everything closer. A full last bucket splits (appending a bucket),
//   which is the paper's tree restricted to the local id's path (§2.4).
// - Instead of the paper's relaxed splitting of buckets off the local path ("keep all
//   valid contacts in a subtree of size at least k"), a full bucket admits a contact over
//   capacity when that contact is among the k closest to the local id the table would
//   hold. That keeps the node's true k closest peers, which stores and subscriptions rely
//   on, and costs at most k extra entries; surplus entries that fall out of the k closest
//   are trimmed back to capacity.
// - Every valid message updates the table (the paper only says "when a node receives any
//   message"); contacts learned from responses are not inserted until they speak to us
//   themselves, so a lookup cannot fill the table with unverified addresses.
// - A full bucket does not ping its least-recently-seen entry for every newcomer: when
//   that entry was heard from within `recentlySeen`, the newcomer is dropped without a
//   probe (the entry is fresh; the paper's preference for old contacts still holds).
//   Otherwise one liveness probe per bucket is in flight; the newcomer waits as the
//   bucket's single pending candidate and replaces the entry only if the probe fails.
// - Bucket refresh is driven by inactivity of the range (any message from a contact in
//   it counts, not only our own lookups) and is skipped for full buckets: a full bucket of
//   contacts has nothing to gain from a lookup, and its dead entries are found when
//   lookups use them (`recordFailure`).
// - Diversity (not in the paper; S/Kademlia and BitTorrent's BEP 42 motivate it): a bucket
//   holds at most `SubnetDiversity.perBucket` contacts of one /24 (IPv4) or /48 (IPv6), so
//   one host or one subnet claiming many ids (a Sybil flood) gets at most that many places
//   per bucket instead of crowding honest contacts out. Loopback is exempt: it is one
//   host's own test nodes.

/// One contact in the table with what the node knows about its liveness.
public struct RoutingEntry: Hashable, Sendable {
    public var contact: Contact
    public var lastSeen: Instant
    /// Consecutive requests that went unanswered.
    public var failures: Int
}

/// Contacts sharing one distance prefix with the local id, least-recently seen first.
public struct KBucket: Sendable {
    public internal(set) var entries: [RoutingEntry] = []
    /// A newcomer waiting for the liveness probe of `entries[0]`.
    public internal(set) var pendingCandidate: Contact?
    /// When this range was last active; refreshed after `bucketRefreshInterval` idle.
    public internal(set) var lastActivity: Instant = .zero
}

/// How many contacts of one subnet a bucket may hold (`Limits.maxContactsPerSubnetPerBucket`).
public struct SubnetDiversity: Hashable, Sendable {
    public var perBucket: Int
    public var ipv4Bits: Int
    public var ipv6Bits: Int

    public init(perBucket: Int = 2, ipv4Bits: Int = 24, ipv6Bits: Int = 48) {
        self.perBucket = perBucket
        self.ipv4Bits = ipv4Bits
        self.ipv6Bits = ipv6Bits
    }

    /// From the limits; nil when they turn diversity off.
    public init?(_ limits: Limits) {
        guard limits.maxContactsPerSubnetPerBucket > 0 else { return nil }
        self.init(perBucket: limits.maxContactsPerSubnetPerBucket, ipv4Bits: limits.subnetBitsIPv4, ipv6Bits: limits.subnetBitsIPv6)
    }

    /// The subnet an endpoint counts against; nil for loopback (exempt).
    func subnet(of endpoint: Endpoint) -> Endpoint.Address? {
        endpoint.isLoopback ? nil : endpoint.subnet(ipv4Bits: ipv4Bits, ipv6Bits: ipv6Bits)
    }
}

/// The k-buckets of one node. A pure value; the node decides on probes.
public struct RoutingTable: Sendable {
    public let localID: NodeID
    public let k: Int
    /// nil: any number of contacts per subnet.
    public let diversity: SubnetDiversity?
    public internal(set) var buckets: [KBucket] = [KBucket()]

    public init(localID: NodeID, k: Int, diversity: SubnetDiversity? = nil) {
        self.localID = localID
        self.k = k
        self.diversity = diversity
    }

    /// True when bucket `index` already holds `perBucket` contacts of `endpoint`'s subnet
    /// (not counting `id` itself).
    func subnetIsFull(_ endpoint: Endpoint, bucket index: Int, excluding id: NodeID) -> Bool {
        guard let diversity, let subnet = diversity.subnet(of: endpoint) else { return false }
        var n = 0
        for e in buckets[index].entries where e.contact.id != id && diversity.subnet(of: e.contact.endpoint) == subnet { n += 1 }
        return n >= diversity.perBucket
    }

    /// What `observe` did with a contact.
    public enum Update: Equatable, Sendable {
        /// Already known; its liveness was renewed (and its endpoint updated).
        case refreshed
        /// Added. `rank` is how many entries are closer to the local id (counted up to
        /// 2k): below k it is one of our k closest.
        case inserted(rank: Int)
        /// The bucket is full and its least-recently-seen entry needs a liveness probe;
        /// the newcomer waits as the bucket's pending candidate.
        case probe(Contact)
        /// The bucket is full of recently seen contacts, or a probe is already running.
        case dropped
        /// The bucket already holds `SubnetDiversity.perBucket` contacts of this contact's
        /// subnet (a known contact that moved into such a subnet is removed).
        case refusedSubnet
    }

    public var count: Int { buckets.reduce(0) { $0 + $1.entries.count } }

    public func bucketIndex(for id: NodeID) -> Int {
        min(localID.distance(to: id).leadingZeroBitCount, buckets.count - 1)
    }

    public func entry(for id: NodeID) -> RoutingEntry? {
        buckets[bucketIndex(for: id)].entries.first { $0.contact.id == id }
    }

    public func contains(_ id: NodeID) -> Bool { entry(for: id) != nil }

    public var allContacts: [Contact] { buckets.flatMap { $0.entries.map(\.contact) } }

    /// Records that `contact` sent us a valid message at `now`.
    public mutating func observe(_ contact: Contact, now: Instant, recentlySeen: Interval) -> Update {
        guard contact.id != localID else { return .dropped }
        var index = bucketIndex(for: contact.id)
        buckets[index].lastActivity = now
        if let i = buckets[index].entries.firstIndex(where: { $0.contact.id == contact.id }) {
            if let diversity, diversity.subnet(of: contact.endpoint) != diversity.subnet(of: buckets[index].entries[i].contact.endpoint),
               subnetIsFull(contact.endpoint, bucket: index, excluding: contact.id) {
                buckets[index].entries.remove(at: i)
                return .refusedSubnet
            }
            var e = buckets[index].entries.remove(at: i)
            e.contact.endpoint = contact.endpoint
            e.lastSeen = now
            e.failures = 0
            buckets[index].entries.append(e)
            return .refreshed
        }
        let entry = RoutingEntry(contact: contact, lastSeen: now, failures: 0)
        while buckets[index].entries.count >= k, index == buckets.count - 1, buckets.count < 256 {
            split()
            index = bucketIndex(for: contact.id)
        }
        if subnetIsFull(contact.endpoint, bucket: index, excluding: contact.id) { return .refusedSubnet }
        let rank = closerThanCount(contact.id, limit: 2 * k)
        if buckets[index].entries.count < k || rank < k {
            buckets[index].entries.append(entry)
            buckets[index].lastActivity = now
            if rank < k { trimSurplus() }
            return .inserted(rank: rank)
        }
        let oldest = buckets[index].entries[0]
        guard buckets[index].pendingCandidate == nil, now.since(oldest.lastSeen) >= recentlySeen else {
            return .dropped
        }
        buckets[index].pendingCandidate = contact
        return .probe(oldest.contact)
    }

    /// The liveness probe of `probed` succeeded: keep it (as most recently seen) and forget
    /// the newcomer that waited.
    public mutating func probeSucceeded(_ probed: NodeID, now: Instant) {
        let index = bucketIndex(for: probed)
        buckets[index].pendingCandidate = nil
        if let i = buckets[index].entries.firstIndex(where: { $0.contact.id == probed }) {
            var e = buckets[index].entries.remove(at: i)
            e.lastSeen = now
            e.failures = 0
            buckets[index].entries.append(e)
        }
    }

    /// The liveness probe of `probed` failed: evict it and admit the pending newcomer.
    /// Returns the admitted contact.
    @discardableResult
    public mutating func probeFailed(_ probed: NodeID, now: Instant) -> Contact? {
        let index = bucketIndex(for: probed)
        let candidate = buckets[index].pendingCandidate
        buckets[index].pendingCandidate = nil
        buckets[index].entries.removeAll { $0.contact.id == probed }
        guard let candidate, !contains(candidate.id) else { return nil }
        let target = bucketIndex(for: candidate.id)
        guard buckets[target].entries.count < k, !subnetIsFull(candidate.endpoint, bucket: target, excluding: candidate.id) else { return nil }
        buckets[target].entries.append(RoutingEntry(contact: candidate, lastSeen: now, failures: 0))
        return candidate
    }

    /// A request to `id` went unanswered. After `maxFailures` in a row the entry is
    /// removed; returns true then.
    @discardableResult
    public mutating func recordFailure(_ id: NodeID, maxFailures: Int) -> Bool {
        let index = bucketIndex(for: id)
        guard let i = buckets[index].entries.firstIndex(where: { $0.contact.id == id }) else { return false }
        buckets[index].entries[i].failures += 1
        guard buckets[index].entries[i].failures >= maxFailures else { return false }
        buckets[index].entries.remove(at: i)
        return true
    }

    public mutating func remove(_ id: NodeID) {
        buckets[bucketIndex(for: id)].entries.removeAll { $0.contact.id == id }
    }

    /// Marks bucket `index` active (a lookup into its range just ran).
    public mutating func touch(bucket index: Int, now: Instant) {
        buckets[index].lastActivity = now
    }

    /// The `count` known contacts closest to `target`, closest first.
    public func closest(to target: NodeID, count: Int, excluding excluded: NodeID? = nil) -> [Contact] {
        var best: [(Distance, Contact)] = []
        best.reserveCapacity(count + 1)
        for bucket in buckets {
            for e in bucket.entries where e.contact.id != excluded {
                let d = e.contact.id.distance(to: target)
                if best.count == count, let last = best.last, !(d < last.0) { continue }
                let at = best.firstIndex { d < $0.0 } ?? best.count
                best.insert((d, e.contact), at: at)
                if best.count > count { best.removeLast() }
            }
        }
        return best.map(\.1)
    }

    /// How many entries are closer to the local id than `id`, counting at most to `limit`.
    func closerThanCount(_ id: NodeID, limit: Int) -> Int {
        let d = localID.distance(to: id)
        let index = bucketIndex(for: id)
        var n = 0
        for b in stride(from: buckets.count - 1, to: index, by: -1) {
            n += buckets[b].entries.count
            if n >= limit { return n }
        }
        for e in buckets[index].entries where localID.distance(to: e.contact.id) < d { n += 1 }
        return n
    }

    private mutating func split() {
        let last = buckets.count - 1
        var near = KBucket()
        near.lastActivity = buckets[last].lastActivity
        let moving = buckets[last].entries.filter { localID.distance(to: $0.contact.id).leadingZeroBitCount > last }
        buckets[last].entries.removeAll { localID.distance(to: $0.contact.id).leadingZeroBitCount > last }
        near.entries = moving
        if let c = buckets[last].pendingCandidate, localID.distance(to: c.id).leadingZeroBitCount > last {
            buckets[last].pendingCandidate = nil
        }
        buckets.append(near)
    }

    /// Drops over-capacity entries that are no longer among the k closest, farthest first.
    private mutating func trimSurplus() {
        for b in buckets.indices where buckets[b].entries.count > k {
            let sorted = buckets[b].entries.sorted { localID.distance(to: $0.contact.id) > localID.distance(to: $1.contact.id) }
            for e in sorted where buckets[b].entries.count > k {
                if closerThanCount(e.contact.id, limit: k) >= k {
                    buckets[b].entries.removeAll { $0.contact.id == e.contact.id }
                }
            }
        }
    }
}
