/// `GET /api/v1/status`: is this gateway working, and if not, why. What `z2z status` prints.
public struct StatusResponse: Codable, Hashable, Sendable {
    /// This gateway's node id (64 hex digits).
    public var nodeID: String
    public var network: String
    public var island: IslandRef
    public var role: GatewayRole
    /// The island leader's node id; absent while there is none.
    public var leaderID: String?
    public var stage: Stage
    /// The DHT overlay this island's leader is in (absent before structure formation).
    public var overlayID: String?
    /// Peers in `/peers`: gateways on this island and leaders of other islands.
    public var peerCount: Int
    public var services: ServiceCounts
    public var uptimeSeconds: Double
    public var avahi: AvahiStatus
    public var health: Health
    /// Router mode: the links, each an island of its own; nil for an ordinary gateway.
    public var links: [LinkInfo]?

    public init(nodeID: String, network: String, island: IslandRef, role: GatewayRole, leaderID: String?, stage: Stage,
                overlayID: String?, peerCount: Int, services: ServiceCounts, uptimeSeconds: Double, avahi: AvahiStatus,
                health: Health) {
        self.nodeID = nodeID
        self.network = network
        self.island = island
        self.role = role
        self.leaderID = leaderID
        self.stage = stage
        self.overlayID = overlayID
        self.peerCount = peerCount
        self.services = services
        self.uptimeSeconds = uptimeSeconds
        self.avahi = avahi
        self.health = health
    }

    enum CodingKeys: String, CodingKey {
        case nodeID = "node_id"
        case network
        case island
        case role
        case leaderID = "leader_id"
        case stage
        case overlayID = "overlay_id"
        case peerCount = "peer_count"
        case services
        case uptimeSeconds = "uptime_seconds"
        case avahi
        case health
        case links
    }
}

/// The four stages of an island's life (DESIGN.md).
public struct Stage: WireEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Finding the other gateways on the link and electing a leader.
    public static let bootstrapping: Stage = "bootstrapping"
    /// Exchanging records directly with a few other islands' leaders.
    public static let interconnection: Stage = "interconnection"
    /// Leaders form a DHT.
    public static let structure: Stage = "structure"
    /// Two overlays that formed apart are joining.
    public static let merging: Stage = "merging"
}

/// How many services this gateway sees, by origin.
public struct ServiceCounts: Codable, Hashable, Sendable {
    /// On this island's link, not published by any gateway.
    public var local: Int
    /// Published on this link by this island's leader on behalf of other islands.
    public var imported: Int
    /// Local services this island's leader has put into the DHT.
    public var exported: Int
    /// Imports published through the leaders' relay, by why (`lan_not_routed`, ...; the
    /// reasons of `ImportRoute`). Absent from daemons that predate the relay.
    public var relayed: [String: Int]?
    /// Imports avahi-daemon refused to publish, tried again with backoff (not in `imported`).
    /// Absent from daemons that predate the retries.
    public var refused: Int?
    /// Local services not exported because their type has as many exports as the DHT holds
    /// from one island (not in `exported`). Absent from daemons that predate the cap.
    public var capped: Int?

    public init(local: Int, imported: Int, exported: Int, relayed: [String: Int]? = nil, refused: Int? = nil,
                capped: Int? = nil) {
        self.local = local
        self.imported = imported
        self.exported = exported
        self.relayed = relayed
        self.refused = refused
        self.capped = capped
    }

    enum CodingKeys: String, CodingKey {
        case local
        case imported
        case exported
        case relayed
        case refused
        case capped
    }
}

/// The connection to avahi-daemon.
public struct AvahiStatus: Codable, Hashable, Sendable {
    public var state: State
    /// Why, when not connected.
    public var detail: String?

    public init(state: State, detail: String? = nil) {
        self.state = state
        self.detail = detail
    }

    public struct State: WireEnum {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let connected: State = "connected"
        /// Waiting for avahi-daemon (not running yet, or restarting).
        public static let connecting: State = "connecting"
        public static let unavailable: State = "unavailable"
    }

    enum CodingKeys: String, CodingKey {
        case state
        case detail
    }
}

/// The gateway's own verdict on itself; `z2z status` exits 0, 2 or 1 for ok, degraded, error.
public struct Health: Codable, Hashable, Sendable {
    public var state: State
    /// One sentence each, for a person: why it is not ok.
    public var reasons: [String]

    public init(state: State, reasons: [String] = []) {
        self.state = state
        self.reasons = reasons
    }

    public static let ok = Health(state: .ok)

    public struct State: WireEnum {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let ok: State = "ok"
        /// Working, but not fully: e.g. no other island reachable, avahi reconnecting.
        public static let degraded: State = "degraded"
        /// Not doing its job: e.g. avahi-daemon unavailable.
        public static let error: State = "error"
    }

    enum CodingKeys: String, CodingKey {
        case state
        case reasons
    }
}
