/// An island as the API names it: its id (16 hex digits, as `IslandID` prints it) and its
/// name when it has one. The id is absent only while a gateway has not joined an island yet.
public struct IslandRef: Codable, Hashable, Sendable, CustomStringConvertible {
    public var id: String?
    public var name: String?

    public init(id: String?, name: String? = nil) {
        self.id = id
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case id
        case name
    }

    /// `office (1a2b3c4d5e6f7081)`, `1a2b3c4d5e6f7081`, or `office`.
    public var description: String {
        switch (id, name) {
        case (let id?, let name?): "\(name) (\(id))"
        case (let id?, nil): id
        case (nil, let name?): name
        case (nil, nil): "-"
        }
    }
}

/// What a gateway is to its island.
public struct GatewayRole: WireEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Listening or electing: follows nobody yet.
    public static let candidate: GatewayRole = "candidate"
    public static let follower: GatewayRole = "follower"
    /// Speaks for the island: exports, imports, meets other islands' leaders.
    public static let leader: GatewayRole = "leader"
}
