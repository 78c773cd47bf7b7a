import DNSSD

/// Which services cross an island's border: ordered permit/deny rules and a default.
///
/// The first rule that matches a (direction, type, island) decides; when none matches, the
/// default does. The verdict names the rule, so `z2z policy test` can say why. Pure: no I/O,
/// no clock; the configuration parses it from the `[policy]` part of the TOML file.
public struct Policy: Hashable, Sendable {
    /// Rules in file order: the first match wins.
    public var rules: [PolicyRule]
    public var defaultAction: PolicyAction
    /// Named groups of service types a rule can refer to with `tag`.
    public var tags: [String: Set<ServiceType>]

    public init(rules: [PolicyRule] = [], defaultAction: PolicyAction = .permit, tags: [String: Set<ServiceType>] = [:]) {
        self.rules = rules
        self.defaultAction = defaultAction
        self.tags = tags
    }

    /// Everything crosses: the policy of a gateway with no `[policy]` section.
    public static let permitAll = Policy()

    /// Decides whether a service of `type` may cross in `direction`. `island` is the island
    /// the service comes from for an import, and this island for an export.
    public func evaluate(direction: PolicyDirection, type: ServiceType, island: PolicyIsland) -> Verdict {
        for (index, rule) in rules.enumerated() where rule.matches(direction: direction, type: type, island: island, tags: tags) {
            return Verdict(action: rule.action, ruleNumber: index + 1, rule: rule)
        }
        return Verdict(action: defaultAction, ruleNumber: nil, rule: nil)
    }

    /// Tags the rules name that `tags` does not define (a configuration error).
    public var undefinedTags: [String] {
        rules.compactMap { rule in
            if case .tag(let name) = rule.type, tags[name] == nil { return name }
            return nil
        }
    }
}

/// Whether a rule lets services through.
public enum PolicyAction: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case permit
    case deny

    public var description: String { rawValue }
}

/// The way a service crosses: out of this island into the DHT, or from the DHT onto this island's link.
public enum PolicyDirection: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case export
    case `import`

    public var description: String { rawValue }
}

/// The island a decision is about, as far as it is known: its id, its name, or both.
public struct PolicyIsland: Hashable, Sendable, CustomStringConvertible {
    public var id: UInt64?
    public var name: String?

    public init(id: UInt64? = nil, name: String? = nil) {
        self.id = id
        self.name = name
    }

    /// Reads what a person typed: sixteen hex digits are an island id, anything else a name.
    public init(parsing text: String) {
        if let id = IslandMatch.islandID(text) { self.init(id: id) } else { self.init(name: text) }
    }

    public var description: String {
        switch (id, name) {
        case (let id?, let name?): "\(name) (\(IslandMatch.hex(id)))"
        case (let id?, nil): IslandMatch.hex(id)
        case (nil, let name?): name
        case (nil, nil): "unknown island"
        }
    }
}

/// What decided: the action, and the rule that chose it (nil: the default).
public struct Verdict: Hashable, Sendable, CustomStringConvertible {
    public var action: PolicyAction
    /// The deciding rule's position in the file, counted from 1 as people count; nil when the default decided.
    public var ruleNumber: Int?
    public var rule: PolicyRule?

    public init(action: PolicyAction, ruleNumber: Int?, rule: PolicyRule?) {
        self.action = action
        self.ruleNumber = ruleNumber
        self.rule = rule
    }

    public var permits: Bool { action == .permit }

    /// `rule 2 (line 41): deny import type=_ssh._tcp island=*`, or `default: permit`.
    public var description: String {
        guard let ruleNumber, let rule else { return "default: \(action)" }
        let line = rule.line.map { " (line \($0))" } ?? ""
        return "rule \(ruleNumber)\(line): \(rule)"
    }
}
