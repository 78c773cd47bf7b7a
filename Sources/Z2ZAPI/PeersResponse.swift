import Foundation

/// `GET /api/v1/peers`: the gateways on this island and the leaders of other islands that
/// this gateway talks to.
public struct PeersResponse: Codable, Hashable, Sendable {
    public var peers: [PeerInfo]

    public init(peers: [PeerInfo]) { self.peers = peers }

    enum CodingKeys: String, CodingKey {
        case peers
    }
}

/// One peer and how well it answers.
public struct PeerInfo: Codable, Hashable, Sendable {
    /// Node id, 64 hex digits.
    public var id: String
    /// `HOST:PORT` of its DHT/heartbeat socket.
    public var endpoint: String
    public var kind: Kind
    /// Its role on its own island, when known.
    public var role: GatewayRole?
    public var island: IslandRef?
    /// Round-trip time of the last answered request, in milliseconds.
    public var rttMilliseconds: Double?
    public var state: State
    /// When it was last heard from.
    public var lastHeard: Date?

    public init(id: String, endpoint: String, kind: Kind, role: GatewayRole? = nil, island: IslandRef? = nil,
                rttMilliseconds: Double? = nil, state: State, lastHeard: Date? = nil) {
        self.id = id
        self.endpoint = endpoint
        self.kind = kind
        self.role = role
        self.island = island
        self.rttMilliseconds = rttMilliseconds
        self.state = state
        self.lastHeard = lastHeard
    }

    /// How this gateway knows the peer.
    public struct Kind: WireEnum {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Another gateway on this island's link.
        public static let islandGateway: Kind = "island_gateway"
        /// The leader of another island.
        public static let remoteLeader: Kind = "remote_leader"
    }

    public struct State: WireEnum {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Answering.
        public static let alive: State = "alive"
        /// Missed its last heartbeats or requests.
        public static let suspect: State = "suspect"
        /// Given up on; kept until forgotten.
        public static let unreachable: State = "unreachable"
    }

    enum CodingKeys: String, CodingKey {
        case id
        case endpoint
        case kind
        case role
        case island
        case rttMilliseconds = "rtt_ms"
        case state
        case lastHeard = "last_heard"
    }
}
