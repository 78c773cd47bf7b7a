import DNSSD

/// An OS network interface index (`if_nametoindex`); 0 is never a valid interface.
public typealias InterfaceIndex = Int32

/// An address together with the interface it was learned on (needed to use fe80:: addresses).
public struct LinkAddress: Hashable, Comparable, Sendable {
    public var interface: InterfaceIndex
    public var address: IPAddress

    public init(interface: InterfaceIndex, address: IPAddress) {
        self.interface = interface
        self.address = address
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.interface, lhs.address) < (rhs.interface, rhs.address) }
}

/// Who published a service, as far as the local mDNS responder can tell.
public struct Origin: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Published by this host's responder (Avahi's `AVAHI_LOOKUP_RESULT_LOCAL`).
    public static let local = Origin(rawValue: 1)
    /// Published by this very client (Avahi's `AVAHI_LOOKUP_RESULT_OUR_OWN`).
    public static let ourOwn = Origin(rawValue: 2)
}

/// A service instance seen on the link, with what the responder told us about where it came from.
public struct DiscoveredService: Hashable, Sendable {
    public var instance: ServiceInstance
    public var origin: Origin
    /// Every address with the interface it was resolved on, sorted.
    public var linkAddresses: [LinkAddress]
    /// TXT strings that broke RFC 6763 §6 and were left out of `instance.txt`, with reasons.
    public var droppedTXT: [DNSSDError]

    public init(instance: ServiceInstance, origin: Origin = [], linkAddresses: [LinkAddress] = [], droppedTXT: [DNSSDError] = []) {
        self.instance = instance
        self.origin = origin
        self.linkAddresses = Array(Set(linkAddresses)).sorted()
        self.droppedTXT = droppedTXT
    }

    public var id: ServiceID { instance.id }
    public var interfaces: [InterfaceIndex] { Array(Set(linkAddresses.map(\.interface))).sorted() }
}
