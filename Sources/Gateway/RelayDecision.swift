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
    /// A UDP service, and the exporting leader's LAN is not routed from here: its relay did
    /// not answer at its LAN address, or that leader says so (`lan_routed = false`).
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
    /// A TCP connect probe of these addresses at `port` decides; ask it, then decide again.
    /// For a TCP service: the service itself. For a UDP service (nothing to connect to):
    /// the exporting leader's relay at its LAN addresses, whose answer says the LAN is routed.
    case probe([IPAddress], port: UInt16)
    /// It cannot cross usefully: no address this island can use and no relay.
    case unusable(String)
}

/// The pure decision of an import's path (issue 14, item 2): the relay mode, the service's
/// addresses and transport, the exporting leader's offer, this island's LAN prefixes and,
/// for a TCP service, what a connect probe found.
public enum RelayDecision {
    public static func path(mode: RelayMode, addresses: [IPAddress], port: UInt16, type: ServiceType, offer: RelayOffer?,
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
            var probe = (addresses: routable, port: port)
            if type.transport == .udp {
                guard offer.lanRouted else { return .relayed(.lanNotRouted) }
                // Its relay on its LAN: an answer there means this island routes to that LAN.
                let onLAN = offer.endpoints.filter { endpoint in
                    offer.lanPrefixes.contains { $0.contains(IPAddress(endpoint.address)) }
                }
                guard let relayPort = onLAN.first?.port else { return .direct }
                probe = (onLAN.map { IPAddress($0.address) }, relayPort)
                if reachable == false { return .relayed(.lanNotRouted) }
            }
            switch reachable {
            case nil: return .probe(probe.addresses, port: probe.port)
            case true?: return .direct
            case false?: return .relayed(.unreachable)
            }
        }
    }
}
