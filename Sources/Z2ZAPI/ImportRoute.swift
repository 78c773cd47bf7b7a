/// How this link reaches a service imported from another island (`/services`, `/explain`):
/// directly by the service's own addresses, through the leaders' relay (why, and whose
/// relay), or not at all — held back as unreachable, and why. `summary` says it in words;
/// the other fields are for scripts.
public struct ImportRoute: Codable, Hashable, Sendable {
    public var path: Path
    /// When relayed, why, as the metric label spells it: `always`, `link_local_only`,
    /// `overlapping_prefixes`, `unreachable`, `lan_not_routed`.
    public var reason: String?
    /// When relayed, the exporting leader whose relay carries it (its node id).
    public var relayLeader: String?
    /// In words: `direct`, `relayed via leader 3fa2c1d0: LAN not routed`,
    /// `unreachable: no routable address, and the relay is off`.
    public var summary: String

    public init(path: Path, reason: String? = nil, relayLeader: String? = nil, summary: String) {
        self.path = path
        self.reason = reason
        self.relayLeader = relayLeader
        self.summary = summary
    }

    public struct Path: WireEnum {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Published with the service's own addresses and port.
        public static let direct: Path = "direct"
        /// Published on this leader's address and a relay port; the relay carries the streams.
        public static let relayed: Path = "relayed"
        /// Received but not published: no address this island can use, and no relay.
        public static let unreachable: Path = "unreachable"
        /// Received but not published: avahi-daemon refused it (its object or client limit);
        /// the gateway tries again with backoff.
        public static let refused: Path = "refused"
        /// A local service not exported: its type has as many exports as the DHT holds from
        /// one island under one key.
        public static let capped: Path = "capped"
    }

    enum CodingKeys: String, CodingKey {
        case path
        case reason
        case relayLeader = "relay_leader"
        case summary
    }
}
