/// `GET /api/v1/sip`: the SIP user agents this gateway can redirect to, by address of record.
public struct SIPResponse: Codable, Hashable, Sendable {
    public var agents: [SIPAgentInfo]

    public init(agents: [SIPAgentInfo]) { self.agents = agents }

    enum CodingKeys: String, CodingKey {
        case agents
    }
}

/// One SIP user agent announced over DNS-SD on some island.
public struct SIPAgentInfo: Codable, Hashable, Sendable {
    /// The address of record, `sip:alice@example.org`.
    public var addressOfRecord: String
    /// The DNS-SD instance that announced it.
    public var instance: String
    public var type: String
    /// Where it is: this island for local agents.
    public var island: IslandRef
    /// The contacts a redirect gives (`sip:alice@10.0.3.12:5070`).
    public var contacts: [String]

    public init(addressOfRecord: String, instance: String, type: String, island: IslandRef, contacts: [String]) {
        self.addressOfRecord = addressOfRecord
        self.instance = instance
        self.type = type
        self.island = island
        self.contacts = contacts
    }

    enum CodingKeys: String, CodingKey {
        case addressOfRecord = "aor"
        case instance
        case type
        case island
        case contacts
    }
}
