import DNSSD

/// The service a decision is about, as far as it is known: its type always, and its instance
/// name, host name and addresses when the question is about one instance. An export asks
/// with the service as this link shows it; an import with the record as the exporting island
/// published it. A rule that matches by a fact the question lacks (`z2z policy test` given
/// a type only) does not match, unless its pattern is only stars (`Policy.passedOver`).
public struct PolicyService: Hashable, Sendable, CustomStringConvertible {
    public var type: ServiceType
    public var name: InstanceName?
    public var host: HostName?
    public var addresses: [IPAddress]

    public init(type: ServiceType, name: InstanceName? = nil, host: HostName? = nil, addresses: [IPAddress] = []) {
        self.type = type
        self.name = name
        self.host = host
        self.addresses = addresses
    }

    /// A service on this link: every address it resolved to, link-local ones included.
    public init(_ instance: ServiceInstance) {
        self.init(type: instance.type, name: instance.name, host: instance.host, addresses: instance.addresses)
    }

    /// `Lab Printer._ipp._tcp on lab-3.local [10.1.2.7]`, as much as is known.
    public var description: String {
        var text = name.map { "\($0).\(type)" } ?? "\(type)"
        if let host { text += " on \(host)" }
        if !addresses.isEmpty { text += " [\(addresses.map(\.description).joined(separator: ", "))]" }
        return text
    }
}
