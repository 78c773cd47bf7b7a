import DNSSD

/// Where a published service's SRV record points.
public enum PublicationHost: Hashable, Sendable {
    /// This host, under the name the local responder already announces.
    case thisHost
    /// A host name we announce ourselves, whose address records point to another machine
    /// (a service imported from a remote island). No reverse (PTR) records are made for it.
    case synthesized(HostName, addresses: [IPAddress])
}

/// How a publication is put on the link.
public enum Announcement: Hashable, Sendable {
    /// Probe for the name first (RFC 6762 §8.1, about 0.85 s), as every responder does.
    case probed
    /// Announce at once, without probing: only for a name the caller knows to be free on
    /// the link (a gateway that sees every name there). A later clash still renames it.
    case immediate
}

/// A service to announce on the link.
public struct Publication: Hashable, Sendable {
    public var name: InstanceName
    public var type: ServiceType
    public var subtypes: [Subtype]
    public var domain: DomainName
    public var port: UInt16
    public var txt: TXTRecord
    public var host: PublicationHost
    /// How the name changes when another host already uses it.
    public var renameRule: RenameRule
    public var announcement: Announcement

    public init(
        name: InstanceName, type: ServiceType, subtypes: [Subtype] = [], domain: DomainName = .local,
        port: UInt16, txt: TXTRecord = .empty, host: PublicationHost = .thisHost, renameRule: RenameRule = .numbered,
        announcement: Announcement = .probed
    ) {
        self.name = name
        self.type = type
        self.subtypes = Array(Set(subtypes)).sorted()
        self.domain = domain
        self.port = port
        self.txt = txt
        self.host = host
        self.renameRule = renameRule
        self.announcement = announcement
    }

    public var id: ServiceID { ServiceID(name: name, type: type, domain: domain) }

    /// Checks what the types alone cannot: a synthesized host needs usable addresses.
    public func validate() throws(PublishError) {
        guard case .synthesized(_, let addresses) = host else { return }
        guard !addresses.isEmpty else { throw .noAddresses }
        if let bad = addresses.first(where: { $0.isUnspecified || $0.isMulticast || $0.isLoopback }) {
            throw .unusableAddress(bad)
        }
    }
}

/// The handle of one publication, valid until it is withdrawn.
public struct PublicationID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "pub-\(rawValue)" }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Where a publication stands with the local responder.
public enum PublicationState: Hashable, Sendable {
    /// Not announced because the responder is unreachable or is registering its host name
    /// again; it will be once it runs.
    case waiting
    /// Handed to the responder, probing for uniqueness.
    case registering(InstanceName)
    /// Announced on the link under this name.
    case established(InstanceName)
    /// Another host holds the name; the publication retries under `to`.
    case renamed(from: InstanceName, to: InstanceName)
    /// The responder refused it; it is no longer published and will not be retried.
    case failed(String)
}

/// Why a publication was refused. Nothing is announced when this is thrown.
public enum PublishError: Error, Hashable, Sendable, CustomStringConvertible {
    case noAddresses
    case unusableAddress(IPAddress)
    case unknownPublication(PublicationID)
    /// The responder refused an entry (Avahi error code and text).
    case refused(code: Int32, message: String)
    case shutDown

    public var reason: String {
        switch self {
        case .noAddresses: "no_addresses"
        case .unusableAddress: "unusable_address"
        case .unknownPublication: "unknown_publication"
        case .refused: "refused"
        case .shutDown: "shut_down"
        }
    }

    public var description: String {
        switch self {
        case .noAddresses: "a synthesized host needs at least one address"
        case .unusableAddress(let address): "address \(address) cannot be announced for another host"
        case .unknownPublication(let id): "no publication \(id)"
        case .refused(let code, let message): "the mDNS responder refused it: \(message) (\(code))"
        case .shutDown: "the local domain has been shut down"
        }
    }
}
