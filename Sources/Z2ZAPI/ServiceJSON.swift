import DNSSD
import Foundation
import LocalDomain

/// `GET /api/v1/services?origin=&type=`: the services this gateway knows.
public struct ServicesResponse: Codable, Hashable, Sendable {
    public var services: [ServiceJSON]

    public init(services: [ServiceJSON]) { self.services = services }

    enum CodingKeys: String, CodingKey {
        case services
    }
}

/// The JSON form of one service instance: `z2z local --json` prints an array of these, and
/// the API's `/services` adds origin, island and policy verdict. Field names are stable:
/// scripts depend on them. (`ourOwn` predates the API's snake_case and is kept as is.)
public struct ServiceJSON: Codable, Hashable, Sendable {
    public struct TXT: Codable, Hashable, Sendable {
        public var key: String
        /// Base64 of the value bytes; absent for a boolean attribute (`key` without `=`).
        public var value: String?
        /// The value as text when it is UTF-8.
        public var text: String?

        public init(key: String, value: String?, text: String?) {
            self.key = key
            self.value = value
            self.text = text
        }

        /// The TXT string on the wire: `key`, or `key=value` with the value's bytes.
        public var string: [UInt8] {
            guard let value else { return Array(key.utf8) }
            return Array(key.utf8) + [UInt8(ascii: "=")] + Array(Data(base64Encoded: value) ?? Data(text.map { Array($0.utf8) } ?? []))
        }

        enum CodingKeys: String, CodingKey {
            case key
            case value
            case text
        }
    }

    public struct Address: Codable, Hashable, Sendable {
        public var address: String
        /// The interface it was seen on (or is published on), `n/a` when unknown.
        public var interface: String

        public init(address: String, interface: String) {
            self.address = address
            self.interface = interface
        }

        enum CodingKeys: String, CodingKey {
            case address
            case interface
        }
    }

    public var name: String
    public var type: String
    public var domain: String
    public var host: String
    public var port: UInt16
    public var txt: [TXT]
    public var subtypes: [String]
    public var addresses: [Address]
    /// Published by this host's avahi-daemon.
    public var local: Bool
    /// Published by the very process that reports it.
    public var ourOwn: Bool
    /// API only: where the service comes from.
    public var origin: ServiceOrigin?
    /// API only: the island the service belongs to (this one for local services).
    public var island: IslandRef?
    /// API only: what the policy says about it (export for local services, import for imported ones).
    public var policy: PolicyVerdict?
    /// API only, for an imported service: how this link reaches it (absent for local ones,
    /// and from daemons that predate the relay).
    public var route: ImportRoute?
    /// Router mode: the link (island name) the service is on — seen there, or published
    /// there for another link; nil for an ordinary gateway.
    public var link: String?

    public init(name: String, type: String, domain: String = "local", host: String, port: UInt16, txt: [TXT] = [],
                subtypes: [String] = [], addresses: [Address] = [], local: Bool = false, ourOwn: Bool = false,
                origin: ServiceOrigin? = nil, island: IslandRef? = nil, policy: PolicyVerdict? = nil, route: ImportRoute? = nil) {
        self.name = name
        self.type = type
        self.domain = domain
        self.host = host
        self.port = port
        self.txt = txt
        self.subtypes = subtypes
        self.addresses = addresses
        self.local = local
        self.ourOwn = ourOwn
        self.origin = origin
        self.island = island
        self.policy = policy
        self.route = route
    }

    /// A service seen through a `LocalDomain`, with interface indexes turned into names.
    public init(_ service: DiscoveredService, interfaceName: (InterfaceIndex) -> String = InterfaceName.of) {
        let instance = service.instance
        self.init(
            name: instance.name.value, type: instance.type.description, domain: instance.domain.value,
            host: instance.host.value, port: instance.port,
            txt: instance.txt.entries.map { TXT(key: $0.key, value: $0.value.map { Data($0).base64EncodedString() }, text: $0.text) },
            subtypes: instance.subtypes.map(\.label),
            addresses: service.linkAddresses.map { Address(address: $0.address.description, interface: interfaceName($0.interface)) },
            local: service.origin.contains(.local), ourOwn: service.origin.contains(.ourOwn))
    }

    /// The TXT strings in wire order.
    public var txtStrings: [[UInt8]] { txt.map(\.string) }

    enum CodingKeys: String, CodingKey {
        case name
        case type
        case domain
        case host
        case port
        case txt
        case subtypes
        case addresses
        case local
        case ourOwn
        case origin
        case island
        case policy
        case route
        case link
    }
}

/// Where a service the gateway reports comes from.
public struct ServiceOrigin: WireEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// On this island's link, published by a host (not by a gateway).
    public static let local: ServiceOrigin = "local"
    /// From another island: published on this link by this island's leader, or held back
    /// as unreachable (its `route` says which).
    public static let imported: ServiceOrigin = "imported"
}

/// Interface names for the indexes Avahi reports.
public enum InterfaceName {
    /// `eth0` for an index, `n/a` for 0 or an index no longer present (as avahi-browse prints).
    public static func of(_ index: InterfaceIndex) -> String {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard index > 0, if_indextoname(UInt32(index), &buffer) != nil,
              let end = buffer.firstIndex(of: 0) else { return "n/a" }
        return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
