import DNSSD

/// Folds mDNS goodbyes read off the wire into the responder's events, so the gateway hears
/// of each removal once, as `.removed`, and as early as the wire allows.
///
/// A service that says goodbye (a record with TTL 0, RFC 6762 §10.1) is removed at once;
/// avahi-daemon reports the same removal a second later, when its cache lets the records go,
/// and that report is swallowed. Should the responder never report the removal within
/// `confirmation` (the service came back within that second with the same records, so its
/// cache never dropped it), the service is added back. Pure: time is passed in as the
/// duration since an origin of the caller's choosing.
///
/// Without a confirmation time (a router, issue 16) a goodbye stands until the service is
/// heard announced again (`announced`): avahi-daemon ignores a goodbye for records equal to
/// one of its own entries on any interface — a router's import of that very service on its
/// other links — so its cache keeps the PTR and TXT and never reports the removal.
public struct GoodbyeTable: Sendable {
    /// How long a goodbye waits for the responder's own removal before it is taken back.
    public static let defaultConfirmation: Duration = .seconds(2)

    /// Nil: goodbyes are taken back only when the service is announced again.
    public let confirmation: Duration?
    /// Services on the link as the responder last reported them.
    private var present: [ServiceID: DiscoveredService] = [:]
    /// Removed on their goodbye, awaiting the responder's removal: since when.
    private var pending: [ServiceID: (service: DiscoveredService, since: Duration)] = [:]

    public init(confirmation: Duration? = GoodbyeTable.defaultConfirmation) {
        self.confirmation = confirmation
    }

    /// When the oldest unconfirmed goodbye is due to be taken back.
    public var nextDeadline: Duration? {
        guard let confirmation else { return nil }
        return pending.values.map { $0.since + confirmation }.min()
    }

    /// `id` announced on the link (a PTR to it with a TTL, RFC 6762 §8.3): if it was removed
    /// on a goodbye, it is back.
    public mutating func announced(_ id: ServiceID) -> [LocalDomainEvent] {
        guard let entry = pending.removeValue(forKey: id) else { return [] }
        present[id] = entry.service
        return [.added(entry.service)]
    }

    /// An event of the responder: what the gateway should hear of it.
    public mutating func responder(_ event: LocalDomainEvent) -> [LocalDomainEvent] {
        switch event {
        case .changed(let service) where confirmation == nil && pending[service.id] != nil:
            // Without a confirmation time the responder's cache outlives the goodbye: its
            // changes (the SRV record gone, a resolver failing) say nothing of a return.
            pending[service.id]?.service = service
            return []
        case .added(let service), .changed(let service):
            present[service.id] = service
            // Back after its goodbye: the gateway removed it, so it is new to the gateway.
            if pending.removeValue(forKey: service.id) != nil { return [.added(service)] }
            return [event]
        case .removed(let id):
            present[id] = nil
            // Removed already, on its goodbye.
            return pending.removeValue(forKey: id) != nil ? [] : [event]
        case .connection, .ignored, .settled, .publication:
            return [event]
        }
    }

    /// A goodbye for `id` read off the wire at `now`: its removal, unless it is unknown or
    /// removed already.
    public mutating func goodbye(_ id: ServiceID, now: Duration) -> [LocalDomainEvent] {
        guard let service = present.removeValue(forKey: id) else { return [] }
        pending[id] = (service, now)
        return [.removed(id)]
    }

    /// Goodbyes the responder never confirmed within `confirmation`: those services are
    /// still there, and come back.
    public mutating func tick(now: Duration) -> [LocalDomainEvent] {
        guard let confirmation else { return [] }
        let due = pending.filter { $0.value.since + confirmation <= now }.sorted { $0.key < $1.key }
        return due.map { id, entry in
            pending[id] = nil
            present[id] = entry.service
            return .added(entry.service)
        }
    }
}
