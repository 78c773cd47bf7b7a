/// A source or destination a rule names (`from`, `to`): one island or link by name or id,
/// or a zone — a named group of them under `[policy.zones]`, e.g.
/// `staff = ["staff-wired", "staff-wifi"]`. Zones are expanded when the file is read, so a
/// rule carries its members and still prints the name it was written with.
public struct IslandSet: Hashable, Sendable, CustomStringConvertible {
    /// What the configuration said (`staff`).
    public var label: String
    /// Any of them matches.
    public var members: [IslandMatch]

    public init(label: String, members: [IslandMatch]) {
        self.label = label
        self.members = members
    }

    /// One island or link.
    public init(_ match: IslandMatch) {
        self.init(label: match.description, members: [match])
    }

    public func matches(_ island: PolicyIsland) -> Bool { members.contains { $0.matches(island) } }

    public var description: String { label }
}

/// Which way a rule with `from` and `to` matched a crossing.
enum FlowMatch {
    /// Not at all.
    case none
    /// From its `from` to its `to` (or the rule names neither).
    case forward
    /// From its `to` back to its `from`, on a one-way rule: the opposite action decides.
    case reverse
}

extension PolicyRule {
    /// Whether the rule's `from` and `to` match a crossing from `source` to `destination`.
    /// A rule naming a destination does not match a question that has none (an export seen
    /// from a gateway that does not know where the service goes): the importer decides.
    func flow(from source: PolicyIsland, to destination: PolicyIsland?) -> FlowMatch {
        if from == nil, to == nil { return .forward }
        let forward = (from?.matches(source) ?? true) && (to.map { wanted in destination.map(wanted.matches) ?? false } ?? true)
        if forward { return .forward }
        guard oneWay, let destination else { return .none }
        let reverse = (to?.matches(source) ?? true) && (from?.matches(destination) ?? true)
        return reverse ? .reverse : .none
    }
}
