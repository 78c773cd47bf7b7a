import Foundation
import Policy

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

extension IslandRef {
    /// An island named by a person (`z2z policy test TYPE ISLAND`), by id or by name,
    /// completed from the islands the gateway knows: a rule may name the island by id while
    /// the person typed its name, or the other way round.
    public static func resolve(_ text: String, among known: [IslandInfo]) -> IslandRef {
        let typed = PolicyIsland(parsing: text)
        if let id = typed.id, let match = known.first(where: { UInt64($0.id, radix: 16) == id }) { return match.ref }
        if let name = typed.name, let match = known.first(where: { $0.name?.lowercased() == name.lowercased() }) { return match.ref }
        return IslandRef(id: typed.id.map(IslandMatch.hex), name: typed.name)
    }

    /// The island as the policy's rules see it.
    public var policyIsland: PolicyIsland { PolicyIsland(id: id.flatMap { UInt64($0, radix: 16) }, name: name) }
}
