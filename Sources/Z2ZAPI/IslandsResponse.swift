import Foundation

/// `GET /api/v1/islands`: every island this gateway knows, its own first.
public struct IslandsResponse: Codable, Hashable, Sendable {
    public var islands: [IslandInfo]

    public init(islands: [IslandInfo]) { self.islands = islands }

    enum CodingKeys: String, CodingKey {
        case islands
    }
}

/// One island as seen from here.
public struct IslandInfo: Codable, Hashable, Sendable {
    /// 16 hex digits.
    public var id: String
    public var name: String?
    /// True for the island this gateway belongs to.
    public var isLocal: Bool
    /// The leader's node id (64 hex digits).
    public var leaderID: String?
    /// Where the leader listens for the DHT, `HOST:PORT`.
    public var leaderEndpoint: String?
    /// When this gateway last heard of the island (its leader, or a record it published).
    public var lastSeen: Date?
    /// Services the island exports.
    public var serviceCount: Int

    public init(id: String, name: String? = nil, isLocal: Bool = false, leaderID: String? = nil,
                leaderEndpoint: String? = nil, lastSeen: Date? = nil, serviceCount: Int = 0) {
        self.id = id
        self.name = name
        self.isLocal = isLocal
        self.leaderID = leaderID
        self.leaderEndpoint = leaderEndpoint
        self.lastSeen = lastSeen
        self.serviceCount = serviceCount
    }

    public var ref: IslandRef { IslandRef(id: id, name: name) }

    enum CodingKeys: String, CodingKey {
        case id
        case name
        case isLocal = "local"
        case leaderID = "leader_id"
        case leaderEndpoint = "leader_endpoint"
        case lastSeen = "last_seen"
        case serviceCount = "service_count"
    }
}
