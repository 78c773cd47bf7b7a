/// The identity of a service instance on a link: name, type and domain (RFC 6763 §4.1).
public struct ServiceID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var name: InstanceName
    public var type: ServiceType
    public var domain: DomainName

    public init(name: InstanceName, type: ServiceType, domain: DomainName = .local) {
        self.name = name
        self.type = type
        self.domain = domain
    }

    /// `Lab\032Printer._ipp._tcp.local`, escaped as DNS presentation format.
    public var description: String { "\(AvahiEscaping.escapeLabel(name.value)).\(type).\(domain)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.type, lhs.name, lhs.domain) < (rhs.type, rhs.name, rhs.domain)
    }
}

/// A resolved DNS-SD service instance: everything a client needs to use it.
///
/// Invariants: `subtypes` and `addresses` are sorted and free of duplicates, so two instances
/// describing the same service compare equal whatever order the records arrived in.
public struct ServiceInstance: Hashable, Sendable {
    public var name: InstanceName
    public var type: ServiceType
    public var domain: DomainName
    public var host: HostName
    public var port: UInt16
    public var txt: TXTRecord
    public var subtypes: [Subtype] { didSet { subtypes = Array(Set(subtypes)).sorted() } }
    public var addresses: [IPAddress] { didSet { addresses = Array(Set(addresses)).sorted() } }

    public init(
        name: InstanceName, type: ServiceType, domain: DomainName = .local, host: HostName,
        port: UInt16, txt: TXTRecord = .empty, subtypes: [Subtype] = [], addresses: [IPAddress] = []
    ) {
        self.name = name
        self.type = type
        self.domain = domain
        self.host = host
        self.port = port
        self.txt = txt
        self.subtypes = Array(Set(subtypes)).sorted()
        self.addresses = Array(Set(addresses)).sorted()
    }

    public var id: ServiceID { ServiceID(name: name, type: type, domain: domain) }

    /// Addresses another link can reach (no link-local, loopback or multicast).
    public var routableAddresses: [IPAddress] { addresses.filter(\.isRoutable) }
}
