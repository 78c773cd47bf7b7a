import DNSSD

/// Which services cross an island's border: ordered permit/deny rules and a default.
///
/// The first rule that matches a (direction, service, island) decides; when none matches, the
/// default does. A service is its type and, for one instance, its name, host and addresses
/// (`PolicyService`). The verdict names the rule, so `z2z policy test` can say why. Pure: no I/O,
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

    /// Decides whether `service` may cross in `direction`. `island` is the island the service
    /// comes from for an import, and this island for an export.
    ///
    /// `destination` is where the service goes, when known: this island for an import, the
    /// other link for a router's crossing; rules naming `to` match only when it is known.
    public func evaluate(direction: PolicyDirection, service: PolicyService, island: PolicyIsland,
                         destination: PolicyIsland? = nil) -> Verdict {
        for (index, rule) in rules.enumerated() {
            switch rule.match(direction: direction, service: service, island: island, destination: destination, tags: tags) {
            case .none: continue
            case .forward: return Verdict(action: rule.action, ruleNumber: index + 1, rule: rule)
            case .reverse: return Verdict(action: rule.action.opposite, ruleNumber: index + 1, rule: rule, reverse: true)
            }
        }
        return Verdict(action: defaultAction, ruleNumber: nil, rule: nil)
    }

    /// A crossing between two known islands (a router's links): it leaves `source` (the
    /// export rules decide, as `source`'s gateway would) and enters `destination` (the import
    /// rules decide, as its gateway would). The first that denies is the verdict, else the import's.
    public func crossing(_ service: PolicyService, from source: PolicyIsland, to destination: PolicyIsland) -> Verdict {
        let export = evaluate(direction: .export, service: service, island: source, destination: destination)
        guard export.permits else { return export }
        return evaluate(direction: .import, service: service, island: source, destination: destination)
    }

    /// Decides for a type alone, no instance in view: rules that pick instances by name,
    /// host or address pass over it.
    public func evaluate(direction: PolicyDirection, type: ServiceType, island: PolicyIsland) -> Verdict {
        evaluate(direction: direction, service: PolicyService(type: type), island: island)
    }

    /// Whether some instance of `type` may cross in `direction`: false only when every one
    /// is denied whatever its name, host and addresses. An importer follows a type only if
    /// so; a rule picking instances sends the question on to the next rule — a permit that
    /// picks lets some in, a deny that picks leaves the others to the rules after it.
    public func mayPermit(direction: PolicyDirection, type: ServiceType, island: PolicyIsland,
                          destination: PolicyIsland? = nil) -> Bool {
        for rule in rules where rule.matchesKind(direction: direction, type: type, island: island, tags: tags) {
            let action: PolicyAction
            switch rule.flow(from: island, to: destination) {
            case .none: continue
            case .forward: action = rule.action
            case .reverse: action = rule.action.opposite
            }
            if action == .permit { return true }
            if !rule.picksInstances { return false }
        }
        return defaultAction == .permit
    }

    /// The rules that pick instances by a fact `service` lacks and would otherwise match it,
    /// numbered from 1: the ones `z2z policy test` passed over for want of a name, host or
    /// address, and that may decide differently for a particular instance.
    public func passedOver(direction: PolicyDirection, service: PolicyService, island: PolicyIsland) -> [Int] {
        let decided = evaluate(direction: direction, service: service, island: island).ruleNumber ?? rules.count + 1
        return rules.indices.prefix(decided - 1).filter { index in
            let rule = rules[index]
            guard rule.matchesKind(direction: direction, type: service.type, island: island, tags: tags) else { return false }
            let lacking = (rule.name != nil && service.name == nil) || (rule.host != nil && service.host == nil)
                || (rule.address != nil && service.addresses.isEmpty)
            return lacking && !rule.matches(direction: direction, service: service, island: island, tags: tags)
        }.map { $0 + 1 }
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

    /// What the reverse of a one-way rule does.
    public var opposite: PolicyAction { self == .permit ? .deny : .permit }
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
    /// The rule is one-way and decided the reverse of its crossing, with the opposite action.
    public var reverse: Bool

    public init(action: PolicyAction, ruleNumber: Int?, rule: PolicyRule?, reverse: Bool = false) {
        self.action = action
        self.ruleNumber = ruleNumber
        self.rule = rule
        self.reverse = reverse
    }

    public var permits: Bool { action == .permit }

    /// `rule 2 (line 41): deny import type=_ssh._tcp island=*`, or `default: permit`.
    public var description: String {
        guard let ruleNumber, let rule else { return "default: \(action)" }
        let line = rule.line.map { " (line \($0))" } ?? ""
        let reversed = reverse ? " (the reverse crossing: \(action))" : ""
        return "rule \(ruleNumber)\(line): \(rule)\(reversed)"
    }
}
