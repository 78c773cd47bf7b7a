import Policy

/// `GET /api/v1/policy/test?type=&island=[&name=&host=&address=]`: what the running policy
/// decides for a service from (import) or on (export) an island, and which rule decided. The
/// service is a type, and as much of one instance as was given: its name, host, addresses.
public struct PolicyTestResult: Codable, Hashable, Sendable {
    public var type: String
    /// The island as the daemon resolved it (a name given is completed with the id it knows, and back).
    public var island: IslandRef
    /// The instance name asked about; absent: none given.
    public var name: String?
    /// The host asked about; absent: none given.
    public var host: String?
    /// The addresses asked about; absent: none given.
    public var addresses: [String]?
    public var exportVerdict: PolicyVerdict
    public var importVerdict: PolicyVerdict
    /// Asked with a destination (`z2z policy test TYPE FROM TO`): where the service goes, and
    /// the verdict on the whole crossing — FROM's export rules, then TO's import rules.
    public var destination: IslandRef?
    public var crossing: PolicyVerdict?

    public init(type: String, island: IslandRef, name: String? = nil, host: String? = nil, addresses: [String]? = nil,
                exportVerdict: PolicyVerdict, importVerdict: PolicyVerdict, destination: IslandRef? = nil,
                crossing: PolicyVerdict? = nil) {
        self.type = type
        self.island = island
        self.name = name
        self.host = host
        self.addresses = addresses
        self.exportVerdict = exportVerdict
        self.importVerdict = importVerdict
        self.destination = destination
        self.crossing = crossing
    }

    enum CodingKeys: String, CodingKey {
        case type
        case island
        case name
        case host
        case addresses
        case exportVerdict = "export"
        case importVerdict = "import"
        case destination = "to"
        case crossing
    }
}

/// One policy decision and its reason.
public struct PolicyVerdict: Codable, Hashable, Sendable {
    public var action: Action
    /// The deciding rule, counted from 1 in file order; absent when the default decided.
    public var ruleNumber: Int?
    /// The line of that rule's `[[policy.rule]]` in the configuration file.
    public var ruleLine: Int?
    /// The rule in the configuration's words: `deny import type=_ssh._tcp island=*`.
    public var rule: String?
    /// For a person: `rule 2 (line 41): deny import type=_ssh._tcp island=*`, or `default: permit`.
    public var explanation: String
    /// Rules before the deciding one that pick instances by a name, host or address the
    /// question did not give (`policy test` only): for a particular instance one of them may
    /// decide instead. Absent when there are none.
    public var passedOver: [Int]?

    public init(action: Action, ruleNumber: Int? = nil, ruleLine: Int? = nil, rule: String? = nil, explanation: String,
                passedOver: [Int]? = nil) {
        self.action = action
        self.ruleNumber = ruleNumber
        self.ruleLine = ruleLine
        self.rule = rule
        self.explanation = explanation
        self.passedOver = passedOver
    }

    /// `passedOver`: see the property; empty is stored as absent.
    public init(_ verdict: Verdict, passedOver: [Int] = []) {
        self.init(action: Action(rawValue: verdict.action.rawValue), ruleNumber: verdict.ruleNumber,
                  ruleLine: verdict.rule?.line, rule: verdict.rule?.description, explanation: verdict.description,
                  passedOver: passedOver.isEmpty ? nil : passedOver)
    }

    public var permits: Bool { action == .permit }

    public struct Action: WireEnum {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let permit: Action = "permit"
        public static let deny: Action = "deny"
    }

    enum CodingKeys: String, CodingKey {
        case action
        case ruleNumber = "rule_number"
        case ruleLine = "rule_line"
        case rule
        case explanation
        case passedOver = "passed_over"
    }
}
