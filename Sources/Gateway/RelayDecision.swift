import DNSSD
import Policy
import Primitives

/// Why an import is relayed: the word `z2z services` and `z2z explain` show.
public enum RelayReason: String, Hashable, Sendable {
    /// `[relay] mode = "always"`.
    case always
    /// The service has link-local addresses only: no other link can use them.
    case linkLocalOnly = "link_local_only"
    /// The service's address lies in a prefix both islands' LANs use (the same
    /// 192.168.1.0/24 everywhere): here it names a host of this island.
    case overlappingPrefixes = "overlapping_prefixes"
    /// A bounded TCP connect from the importing leader to the service's address failed.
    case unreachable
    /// A UDP service (nothing to probe), and the exporting leader says its LAN is not routed.
    case lanNotRouted = "lan_not_routed"
}

/// What the exporting leader offers for relaying one island's services: where its relay
/// listens, its LAN's prefixes (for the overlap check) and whether that LAN is routed from
/// other islands.
public struct RelayOffer: Hashable, Sendable {
    public static let maximumEndpoints = 8

    /// Where the exporting leader's relay listens (its tunnel's SSH server).
    public var endpoints: [Endpoint]
    public var lanPrefixes: [IPPrefix]
    public var lanRouted: Bool

    public init(endpoints: [Endpoint] = [], lanPrefixes: [IPPrefix], lanRouted: Bool) {
        self.endpoints = Array(Set(endpoints)).sorted { $0.description < $1.description }
        self.lanPrefixes = Array(Set(lanPrefixes)).sorted()
        self.lanRouted = lanRouted
    }
}

/// How an import reaches its service, decided by `RelayDecision`.
public enum ImportPath: Hashable, Sendable {
    /// By the service's own routable addresses, as today.
    case direct
    /// Through the leaders' relay, and why.
    case relayed(RelayReason)
    /// A TCP connect probe of these addresses (at the service's port) decides; ask it, then decide again.
    case probe([IPAddress])
    /// It cannot cross usefully: no address this island can use and no relay.
    case unusable(String)
}

/// The pure decision of an import's path (issue 14, item 2): the relay mode, the service's
/// addresses and transport, the exporting leader's offer, this island's LAN prefixes and,
/// for a TCP service, what a connect probe found.
public enum RelayDecision {
    public static func path(mode: RelayMode, addresses: [IPAddress], type: ServiceType, offer: RelayOffer?,
                            localPrefixes: [IPPrefix], probe reachable: Bool?) -> ImportPath {
        let routable = addresses.filter(\.isRoutable)
        switch mode {
        case .off:
            return routable.isEmpty ? .unusable("no routable address, and the relay is off") : .direct
        case .always:
            if offer != nil { return .relayed(.always) }
            return routable.isEmpty ? .unusable("no routable address, and its island offers no relay") : .direct
        case .auto:
            guard let offer else {
                return routable.isEmpty ? .unusable("no routable address, and its island offers no relay") : .direct
            }
            if routable.isEmpty { return .relayed(.linkLocalOnly) }
            let shared = offer.lanPrefixes.filter { theirs in localPrefixes.contains { $0.overlaps(theirs) } }
            if routable.allSatisfy({ address in shared.contains { $0.contains(address) } }) && !shared.isEmpty {
                return .relayed(.overlappingPrefixes)
            }
            if type.transport == .udp {
                return offer.lanRouted ? .direct : .relayed(.lanNotRouted)
            }
            switch reachable {
            case nil: return .probe(routable)
            case true?: return .direct
            case false?: return .relayed(.unreachable)
            }
        }
    }
}
