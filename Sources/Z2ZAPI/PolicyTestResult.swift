import Policy

/// `GET /api/v1/policy/test?type=&island=`: what the running policy decides for a service
/// type from (import) or on (export) an island, and which rule decided.
public struct PolicyTestResult: Codable, Hashable, Sendable {
    public var type: String
    /// The island as the daemon resolved it (a name given is completed with the id it knows, and back).
    public var island: IslandRef
    public var exportVerdict: PolicyVerdict
    public var importVerdict: PolicyVerdict

    public init(type: String, island: IslandRef, exportVerdict: PolicyVerdict, importVerdict: PolicyVerdict) {
        self.type = type
        self.island = island
        self.exportVerdict = exportVerdict
        self.importVerdict = importVerdict
    }

    enum CodingKeys: String, CodingKey {
        case type
        case island
        case exportVerdict = "export"
        case importVerdict = "import"
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

    public init(action: Action, ruleNumber: Int? = nil, ruleLine: Int? = nil, rule: String? = nil, explanation: String) {
        self.action = action
        self.ruleNumber = ruleNumber
        self.ruleLine = ruleLine
        self.rule = rule
        self.explanation = explanation
    }

    public init(_ verdict: Verdict) {
        self.init(action: Action(rawValue: verdict.action.rawValue), ruleNumber: verdict.ruleNumber,
                  ruleLine: verdict.rule?.line, rule: verdict.rule?.description, explanation: verdict.description)
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
    }
}
