import Primitives

/// Direct exchange across NAT (issue 14): members that cannot reach each other.
///
/// Leaders behind masquerading routers each reach a routed member (their own datagrams open
/// their NAT's mapping to it), but not each other: a NATed member's introduction to another
/// NATed member, named by a peer exchange, never arrives. Full replication then leaves each
/// without the other's records, so their islands never see each other's services. No new
/// message repairs it:
/// - A member whose introduction went unanswered `introductionAttempts` times counts the
///   named member *unreachable* and takes a lease, for every key it follows, at the members
///   that named such members (its *bridges*, at most `maxBridges`; any members when none of
///   those is left). A bridge holds every record (it reaches everyone) and pushes each
///   change to subscribers the moment it stores it; a copy that runs out is asked about at
///   the bridges like at any holder (`DHTNode+Subscriptions`).
/// - A member that serves a lease in direct exchange knows its subscriber is *bridged*. It
///   forwards the bridged member's own records, as it stores or renews them, to its other
///   members, so members the bridged one cannot reach receive them whether or not they know
///   it exists; on the first lease it forwards what it already holds of it.
///
/// Which of two NATed members counts the other unreachable depends on the order they
/// joined in (the later one is named the earlier one), and one is enough: it reads the
/// other's records through its lease and its own reach the other through the forwarding.
/// Members that reach everyone never take a lease, so a routed overlay pays nothing. The
/// cost where it is needed: a bridged member's records travel twice to members that could
/// have had them directly (a `renewed` store, acknowledged and not pushed further).
///
/// A forwarded record goes out with its full lifetime (as `Redelivery` sends it), so after
/// a bridged member's crash its records may outlive their owner's schedule by up to a
/// republish period at the members that got them forwarded; a withdrawal (tombstone) is
/// forwarded like any change.
extension DHTNode {
    /// Pings of an introduction before the member named counts as unreachable: a lost
    /// datagram (20 % loss loses a round trip 36 % of the time) is not a NAT.
    static let introductionAttempts = 3
    /// Bridges a member leases at.
    static let maxBridges = 2

    /// An introduction went unanswered: ping again, or count the member unreachable.
    mutating func introductionFailed(_ named: Contact, via namer: Contact, attempt: Int, now: Instant) {
        guard isDirect, !mesh.contains(named.id) else { return }
        if attempt < Self.introductionAttempts {
            send(.ping, to: named.endpoint, expecting: named.id, purpose: .introduce(named, via: namer, attempt: attempt + 1), now: now)
            return
        }
        let isNew = unreachable.isEmpty
        unreachable[named.id] = namer
        if isNew {
            for key in subscriptions.keys.sorted() { leaseAtBridges(key, now: now) }
        }
    }

    /// The members this node leases at: those that named an unreachable member, or any
    /// when none of them is a member any more; none while every member is reachable.
    var bridges: [Contact] {
        guard isDirect, !unreachable.isEmpty else { return [] }
        let namers = Set(unreachable.values.map(\.id))
        let named = mesh.contacts.filter { namers.contains($0.id) }
        return Array((named.isEmpty ? mesh.contacts : named).prefix(Self.maxBridges))
    }

    /// Asks the bridges for a lease on `key`: those not holding one yet, or, when
    /// `renewing`, all of them.
    mutating func leaseAtBridges(_ key: RecordKey, renewing: Bool = false, now: Instant) {
        guard let s = subscriptions[key] else { return }
        for bridge in bridges where renewing || s.holders[bridge.id] == nil {
            send(.subscribe(key: key, lease: configuration.subscriptionLease), to: bridge.endpoint, expecting: bridge.id, purpose: .subscribe(key), now: now)
        }
    }

    // MARK: the bridge's side

    func isBridged(_ member: NodeID, now: Instant) -> Bool { isDirect && (bridged[member].map { $0 > now } ?? false) }

    /// A member took a lease here in direct exchange: it cannot reach every member. The
    /// first time, what is held of its own records goes to the others.
    mutating func bridgeLeased(by member: Contact, lease: UInt32, now: Instant) {
        guard isDirect, mesh.contains(member.id) else { return }
        let wasBridged = isBridged(member.id, now: now)
        bridged[member.id] = max(bridged[member.id] ?? now, now + .seconds(Double(lease)))
        guard !wasBridged else { return }
        for copy in store.records(ownedBy: member.id, now: now) { forwardBridged(copy.record, now: now) }
    }

    /// Sends a bridged member's record to every other member.
    mutating func forwardBridged(_ record: Record, now: Instant) {
        for member in mesh.contacts where member.id != record.owner {
            counters.bridgeForwards += 1
            deliver(record, to: member, purpose: .replicate, now: now)
        }
    }

    /// A bridged member renewed its records under `key` here: the ones held (all named but
    /// `unknown`) go to the other members, whose copies it cannot renew itself.
    mutating func forwardBridgedRenewals(_ key: RecordKey, owner: NodeID, versions: [ValueVersion], except unknown: [UInt64], now: Instant) {
        let skipped = Set(unknown)
        for v in versions where !skipped.contains(v.valueID) {
            guard let held = store.entry(key: key, slot: RecordSlot(owner: owner, valueID: v.valueID)) else { continue }
            forwardBridged(held.record, now: now)
        }
    }

    // MARK: inspection

    /// Direct exchange: members named to this node that it cannot reach.
    public var unreachableMembers: Int { unreachable.count }
    /// Direct exchange: members that cannot reach every member and lease here.
    public var bridgedMembers: Int { bridged.count }
}
