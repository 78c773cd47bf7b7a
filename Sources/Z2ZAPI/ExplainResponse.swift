/// `GET /api/v1/explain?service=<instance or type>` and `z2z explain`: why a service does
/// or does not cross between islands, traced through every step the gateway takes.
///
/// A local service goes: seen on the link → permitted by the export policy → exported under
/// a DHT key → present in the DHT → seen by other islands' leaders. A service of another
/// island goes: present in the DHT → permitted by the import policy → imported on this link
/// under a name. Each trace ends with `verdict`, one line saying where it stops and why.
public struct ExplainResponse: Codable, Hashable, Sendable {
    /// What was asked, as given.
    public var query: String
    /// This gateway's role; a follower knows less than its leader (it says so).
    public var role: GatewayRole
    /// One trace per instance that matches (a type matches all its instances).
    public var traces: [ServiceTrace]
    /// One line when nothing matched, or for the whole answer.
    public var summary: String

    public init(query: String, role: GatewayRole, traces: [ServiceTrace], summary: String) {
        self.query = query
        self.role = role
        self.traces = traces
        self.summary = summary
    }

    enum CodingKeys: String, CodingKey {
        case query
        case role
        case traces
        case summary
    }
}

/// One instance followed through the gateway.
public struct ServiceTrace: Codable, Hashable, Sendable {
    /// The instance name.
    public var instance: String
    public var type: String
    /// The island it belongs to.
    public var island: IslandRef
    /// `outbound` for a service of this island, `inbound` for one of another island.
    public var direction: Direction
    public var steps: [TraceStep]
    /// True when the service crossed (exported and seen by another leader, or imported here).
    public var crossed: Bool
    /// Where it stops and why, in one line (or that it crossed, and where).
    public var verdict: String
    /// Inbound only: how this link reaches the service, when it is imported or held back as
    /// unreachable (absent from daemons that predate the relay).
    public var route: ImportRoute?

    public init(instance: String, type: String, island: IslandRef, direction: Direction, steps: [TraceStep],
                crossed: Bool, verdict: String, route: ImportRoute? = nil) {
        self.instance = instance
        self.type = type
        self.island = island
        self.direction = direction
        self.steps = steps
        self.crossed = crossed
        self.verdict = verdict
        self.route = route
    }

    public struct Direction: WireEnum {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let outbound: Direction = "outbound"
        public static let inbound: Direction = "inbound"
    }

    enum CodingKeys: String, CodingKey {
        case instance
        case type
        case island
        case direction
        case steps
        case crossed
        case verdict
        case route
    }
}

/// One step of a trace and how it went.
public struct TraceStep: Codable, Hashable, Sendable {
    /// `seen_locally`, `export_policy`, `exported`, `in_dht`, `seen_by_leaders`, `import_policy`, `imported`.
    public var step: Name
    public var outcome: Outcome
    /// What was found: the rule, the key, the leaders, the name.
    public var detail: String
    /// The typed reason when the outcome is `failed` (`denied_by_policy`, `withdrawn`, ...).
    public var reason: String?

    public init(step: Name, outcome: Outcome, detail: String, reason: String? = nil) {
        self.step = step
        self.outcome = outcome
        self.detail = detail
        self.reason = reason
    }

    public struct Name: WireEnum {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let seenLocally: Name = "seen_locally"
        public static let exportPolicy: Name = "export_policy"
        public static let exported: Name = "exported"
        public static let inDHT: Name = "in_dht"
        public static let seenByLeaders: Name = "seen_by_leaders"
        public static let importPolicy: Name = "import_policy"
        public static let imported: Name = "imported"
    }

    public struct Outcome: WireEnum {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let passed: Outcome = "passed"
        public static let failed: Outcome = "failed"
        /// Not known from here (a follower, or the DHT did not answer).
        public static let unknown: Outcome = "unknown"
        /// Not reached: an earlier step failed.
        public static let skipped: Outcome = "skipped"
    }

    enum CodingKeys: String, CodingKey {
        case step
        case outcome
        case detail
        case reason
    }
}
