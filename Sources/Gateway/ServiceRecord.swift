import DNSSD
import Island
import Policy

/// One service instance as an island exports it: the payload of a DHT value under the
/// key of its service type (`RecordKeys.type`). Signed in the DHT by the island's leader.
///
/// It carries what another island needs to publish the service as if it were local —
/// name, type, subtypes, port, TXT byte for byte, routable addresses — plus where it comes
/// from (island id and name) and the first label of its original host, from which the
/// importing gateway makes its synthesized host name.
public struct ServiceRecord: Hashable, Sendable {
    public static let maximumAddresses = 16
    public static let maximumSubtypes = 16

    public var island: IslandID
    /// The island's human name (used in the suffix after a name clash); ≤ 63 bytes.
    public var islandName: String
    public var name: InstanceName
    public var type: ServiceType
    public var subtypes: [Subtype]
    public var port: UInt16
    public var txt: TXTRecord
    /// Routable addresses only (never link-local); at least one, unless a relay is offered
    /// (a link-local-only service crosses through the relay alone).
    public var addresses: [IPAddress]
    /// First label of the host the service runs on ("printer" of "printer.local").
    public var hostLabel: String
    /// What the exporting leader offers for relaying it (issue 14); nil: no relay.
    public var relay: RelayOffer?

    public static let maximumPrefixes = 16

    public init(island: IslandID, islandName: String, name: InstanceName, type: ServiceType, subtypes: [Subtype] = [],
                port: UInt16, txt: TXTRecord, addresses: [IPAddress], hostLabel: String, relay: RelayOffer? = nil) {
        self.island = island
        self.islandName = islandName
        self.name = name
        self.type = type
        self.subtypes = Array(Set(subtypes)).sorted()
        self.port = port
        self.txt = txt
        self.addresses = Array(Set(addresses)).sorted()
        self.hostLabel = hostLabel
        self.relay = relay
    }

    /// The identity of the instance across islands: two islands may export the same name.
    public var id: ImportKey { ImportKey(island: island, type: type, name: name) }

    /// The instance as import rules see it: as the exporting island published it — its
    /// name, its addresses, and its host as far as the record carries it (`label.local`).
    public var policyService: PolicyService {
        PolicyService(type: type, name: name, host: try? HostName("\(hostLabel).local"), addresses: addresses)
    }

    /// The island it comes from, as import rules see it.
    public var policyIsland: PolicyIsland {
        PolicyIsland(id: island.rawValue, name: islandName.isEmpty ? nil : islandName)
    }
}

/// A remote instance as an importing gateway tracks it.
public struct ImportKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var island: IslandID
    public var type: ServiceType
    public var name: InstanceName

    public init(island: IslandID, type: ServiceType, name: InstanceName) {
        self.island = island
        self.type = type
        self.name = name
    }

    public static func < (a: Self, b: Self) -> Bool { (a.type, a.name, a.island) < (b.type, b.name, b.island) }
    public var description: String { "\(name) [\(type)] of island \(island)" }
    /// The instance, without its island.
    public var service: ServiceID { ServiceID(name: name, type: type) }
}
