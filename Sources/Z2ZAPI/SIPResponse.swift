/// `GET /api/v1/sip`: the SIP user agents this gateway can redirect to, by address of record.
/// With the registrar and the live-contact checks, also the phones registered here and the
/// contacts being checked (absent from gateways without them).
public struct SIPResponse: Codable, Hashable, Sendable {
    public var agents: [SIPAgentInfo]
    public var registrations: [SIPRegistrationInfo]?
    public var contactChecks: [SIPContactCheckInfo]?

    public init(agents: [SIPAgentInfo], registrations: [SIPRegistrationInfo]? = nil, contactChecks: [SIPContactCheckInfo]? = nil) {
        self.agents = agents
        self.registrations = registrations
        self.contactChecks = contactChecks
    }

    enum CodingKeys: String, CodingKey {
        case agents
        case registrations
        case contactChecks = "contact_checks"
    }
}

/// The SIP service's own state: what the registrar holds and what the contact checks found.
public struct SIPServiceState: Hashable, Sendable {
    public var registrations: [SIPRegistrationInfo]
    public var contactChecks: [SIPContactCheckInfo]

    public init(registrations: [SIPRegistrationInfo] = [], contactChecks: [SIPContactCheckInfo] = []) {
        self.registrations = registrations
        self.contactChecks = contactChecks
    }
}

/// One contact a phone registered with this gateway.
public struct SIPRegistrationInfo: Codable, Hashable, Sendable {
    public var addressOfRecord: String
    public var contact: String
    public var expiresInSeconds: Int

    public init(addressOfRecord: String, contact: String, expiresInSeconds: Int) {
        self.addressOfRecord = addressOfRecord
        self.contact = contact
        self.expiresInSeconds = expiresInSeconds
    }

    enum CodingKeys: String, CodingKey {
        case addressOfRecord = "aor"
        case contact
        case expiresInSeconds = "expires_in_seconds"
    }
}

/// A contact the gateway handed out or registered, checked with SIP OPTIONS.
public struct SIPContactCheckInfo: Codable, Hashable, Sendable {
    public var contact: String
    /// `unknown` (no answer yet), `alive`, or `dead` (not handed out; callers get 480).
    public var health: String
    /// Probes in a row without an answer.
    public var misses: Int
    public var lastAnswerSecondsAgo: Double?

    public init(contact: String, health: String, misses: Int, lastAnswerSecondsAgo: Double?) {
        self.contact = contact
        self.health = health
        self.misses = misses
        self.lastAnswerSecondsAgo = lastAnswerSecondsAgo
    }

    enum CodingKeys: String, CodingKey {
        case contact
        case health
        case misses
        case lastAnswerSecondsAgo = "last_answer_seconds_ago"
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
