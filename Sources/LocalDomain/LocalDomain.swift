import DNSSD

/// What the local mDNS responder is doing for us.
public enum ConnectionState: Hashable, Sendable {
    /// Connected; browsing and publishing work.
    case running
    /// Waiting for the responder (not started yet, or restarting); everything resumes when it is back.
    case connecting(String)
    /// Not reachable at all (e.g. no D-Bus); we keep retrying.
    case unavailable(String)
}

/// Something that happened on the local link.
public enum LocalDomainEvent: Hashable, Sendable {
    case connection(ConnectionState)
    /// A service was resolved for the first time.
    case added(DiscoveredService)
    /// A known service changed (TXT, port, host, addresses, origin).
    case changed(DiscoveredService)
    case removed(ServiceID)
    /// A service on the link that we cannot represent (its name or type breaks RFC 6763).
    case ignored(name: String, type: String, reason: DNSSDError)
    /// Everything the responder had cached has been reported and resolved ("all for now").
    case settled
    case publication(PublicationID, PublicationState)
}

/// Which service types to watch.
public enum BrowseScope: Hashable, Sendable {
    /// Every type present on the link (DNS-SD service type enumeration, RFC 6763 §9).
    case allTypes
    case types([ServiceType])
    /// Publish only.
    case nothing
}

/// The link-local DNS-SD domain as the gateway sees it: services come and go as events,
/// and it can announce services of its own.
///
/// Implementations: `AvahiDomain` (the real link, through avahi-daemon) and `MemoryDomain`
/// (an in-memory link for unit tests).
public protocol LocalDomain: AnyObject, Sendable {
    /// The one stream of events; it ends after `shutdown()`.
    var events: AsyncStream<LocalDomainEvent> { get }

    /// Announces a service. Refused publications throw and leave nothing behind; accepted
    /// ones report their progress as `.publication` events (and survive responder restarts).
    func publish(_ publication: Publication) async throws(PublishError) -> PublicationID

    /// Replaces TXT, port, subtypes or host of a publication in place (name and type stay).
    func update(_ id: PublicationID, to publication: Publication) async throws(PublishError)

    /// Withdraws a publication (mDNS goodbye). Unknown ids are ignored.
    func withdraw(_ id: PublicationID) async

    /// Withdraws everything, stops watching and ends `events`.
    func shutdown() async

    /// A service type a packet on the link named (`MDNSTypes`), perhaps before the responder
    /// enumerated it: browsed at once when watching every type. Types already browsed, and
    /// any type when watching a fixed list, are ignored.
    func typeHeard(_ type: ServiceType)

    /// The SRV, TXT and address records one datagram on the link carried (`MDNSListener`):
    /// a domain that resolves once keeps what it resolved current by them
    /// (`AvahiDomain`'s `.onChange` upkeep). Others ignore them.
    func recordsHeard(_ records: [MDNSResponse.Record])
}

extension LocalDomain {
    /// Domains that see every type at once anyway (`MemoryDomain`) need no hint.
    public func typeHeard(_ type: ServiceType) {}

    public func recordsHeard(_ records: [MDNSResponse.Record]) {}
}
