import Primitives

/// The holder's side of subscriptions: who asked to be told about changes under which key,
/// until when. A node pushes a `notify` to each subscriber the moment it stores a change.
public struct SubscriberTable: Sendable {
    public struct Lease: Hashable, Sendable {
        public var subscriber: Contact
        public var until: Instant
    }

    public let limits: Limits
    public private(set) var leases: [RecordKey: [NodeID: Lease]] = [:]
    public private(set) var count = 0

    public init(limits: Limits) { self.limits = limits }

    /// Grants (or ends, for `lease == 0`) a subscription; returns the lease granted in
    /// seconds, 0 when refused for capacity.
    public mutating func subscribe(_ subscriber: Contact, key: RecordKey, lease: UInt32, now: Instant) -> UInt32 {
        let granted = min(lease, limits.maxLease)
        if granted == 0 {
            if leases[key]?.removeValue(forKey: subscriber.id) != nil { count -= 1 }
            if leases[key]?.isEmpty == true { leases[key] = nil }
            return 0
        }
        let exists = leases[key]?[subscriber.id] != nil
        if !exists {
            guard count < limits.maxSubscriptionsHeld, (leases[key]?.count ?? 0) < limits.maxSubscribersPerKey else { return 0 }
            count += 1
        }
        leases[key, default: [:]][subscriber.id] = Lease(subscriber: subscriber, until: now + .seconds(Double(granted)))
        return granted
    }

    /// The current subscribers of `key`, ordered by id.
    public func subscribers(of key: RecordKey, now: Instant) -> [Contact] {
        guard let l = leases[key] else { return [] }
        return l.values.filter { $0.until > now }.map(\.subscriber).sorted { $0.id < $1.id }
    }

    public mutating func removeExpired(now: Instant) {
        for (key, l) in leases {
            for (id, lease) in l where lease.until <= now {
                leases[key]![id] = nil
                count -= 1
            }
            if leases[key]!.isEmpty { leases[key] = nil }
        }
    }
}
