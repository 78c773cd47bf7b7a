import DNSSD

/// One permit/deny line of a policy. Every criterion must match; an omitted one matches anything.
///
/// Type, island and direction say which services a rule is about as a kind; name, host and
/// address pick instances of them (issue 15): one device by name, or every service of a
/// subnet by source. A rule with instance criteria cannot match a question that lacks the
/// fact it asks about (`PolicyService`), unless its pattern is only stars.
public struct PolicyRule: Hashable, Sendable, CustomStringConvertible {
    public var action: PolicyAction
    public var direction: DirectionMatch
    public var type: TypeMatch
    public var island: IslandMatch
    /// The instance name, unescaped (`Lab Printer*`); nil: any.
    public var name: NameGlob?
    /// The host the service runs on: its whole name (`lab-3.local`) or its first label (`lab-3`); nil: any.
    public var host: NameGlob?
    /// A network holding one of the service's addresses; nil: any.
    public var address: IPPrefix?
    /// Where the service comes from and where it goes (islands, a router's links, or zones
    /// of them); nil: anywhere. `island` keeps naming the island a service comes from.
    public var from: IslandSet?
    public var to: IslandSet?
    /// With `from` and `to`: the reverse crossing (`to` → `from`) matches too, with the
    /// opposite action — "printers from staff to students, never the reverse" in one rule.
    public var oneWay = false
    /// Free text from the configuration, shown when the rule decides.
    public var comment: String?
    /// Where the rule starts in the configuration file, for messages.
    public var line: Int?

    public init(_ action: PolicyAction, direction: DirectionMatch = .both, type: TypeMatch = .any,
                island: IslandMatch = .any, name: NameGlob? = nil, host: NameGlob? = nil, address: IPPrefix? = nil,
                from: IslandSet? = nil, to: IslandSet? = nil, oneWay: Bool = false,
                comment: String? = nil, line: Int? = nil) {
        self.action = action
        self.direction = direction
        self.type = type
        self.island = island
        self.name = name
        self.host = host
        self.address = address
        self.from = from
        self.to = to
        self.oneWay = oneWay
        self.comment = comment
        self.line = line
    }

    public func matches(direction: PolicyDirection, service: PolicyService, island: PolicyIsland, tags: [String: Set<ServiceType>]) -> Bool {
        matchesKind(direction: direction, type: service.type, island: island, tags: tags) && matchesInstance(service)
    }

    /// How the rule matches a crossing from `island` to `destination` (nil: not known): not,
    /// forward, or as the reverse of a one-way rule.
    func match(direction: PolicyDirection, service: PolicyService, island: PolicyIsland, destination: PolicyIsland?,
               tags: [String: Set<ServiceType>]) -> FlowMatch {
        guard matches(direction: direction, service: service, island: island, tags: tags) else { return .none }
        return flow(from: island, to: destination)
    }

    /// A question about a type alone: a rule that picks instances does not match it.
    public func matches(direction: PolicyDirection, type: ServiceType, island: PolicyIsland, tags: [String: Set<ServiceType>]) -> Bool {
        matches(direction: direction, service: PolicyService(type: type), island: island, tags: tags)
    }

    /// Direction, type and island: what the rule says about services as a kind.
    func matchesKind(direction: PolicyDirection, type: ServiceType, island: PolicyIsland, tags: [String: Set<ServiceType>]) -> Bool {
        self.direction.matches(direction) && self.type.matches(type, tags: tags) && self.island.matches(island)
    }

    /// Name, host and address: which instances of that kind.
    func matchesInstance(_ service: PolicyService) -> Bool {
        if let name, !name.matchesEverything, !(service.name.map { name.matches($0.value) } ?? false) { return false }
        if let host, !host.matchesEverything, !(service.host.map { Self.host(host, matches: $0) } ?? false) { return false }
        if let address, !service.addresses.contains(where: address.contains) { return false }
        return true
    }

    /// Whether some instances of a kind the rule matches escape it: it names an instance
    /// criterion that not every service meets.
    var picksInstances: Bool {
        !(name?.matchesEverything ?? true) || !(host?.matchesEverything ?? true) || address != nil
    }

    /// `lab-*` and `lab-*.local` both match `lab-3.local`: people write hosts either way, and
    /// an imported record carries only the first label of its host (`ServiceRecord.hostLabel`).
    static func host(_ glob: NameGlob, matches host: HostName) -> Bool {
        glob.matches(host.value) || host.labels.first.map { glob.matches(String($0)) } ?? false
    }

    /// The rule in the configuration's own words:
    /// `deny import type=_ssh._tcp island=* name="Lab*" address=10.1.2.0/24 # reason`.
    public var description: String {
        var text = "\(action) \(direction) \(type) island=\(island)"
        if let name { text += " name=\"\(name)\"" }
        if let host { text += " host=\"\(host)\"" }
        if let address { text += " address=\(address)" }
        if let from { text += " from=\(from)" }
        if let to { text += " to=\(to)" }
        if oneWay { text += " one-way" }
        if let comment, !comment.isEmpty { text += " # \(comment)" }
        return text
    }
}

/// The directions a rule applies to.
public enum DirectionMatch: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case export
    case `import`
    case both

    public func matches(_ direction: PolicyDirection) -> Bool {
        switch self {
        case .both: true
        case .export: direction == .export
        case .import: direction == .import
        }
    }

    public var description: String { rawValue }
}

/// The service types a rule applies to: all, one, or a named group (a tag).
public enum TypeMatch: Hashable, Sendable, CustomStringConvertible {
    case any
    case exact(ServiceType)
    /// A group defined under `[policy.tags]`, e.g. `printing = ["_ipp._tcp", "_printer._tcp"]`.
    case tag(String)

    /// `*`, or a service type such as `_ipp._tcp`.
    public init(parsing text: String) throws(DNSSDError) {
        self = text == "*" ? .any : .exact(try ServiceType(text))
    }

    public func matches(_ type: ServiceType, tags: [String: Set<ServiceType>]) -> Bool {
        switch self {
        case .any: true
        case .exact(let wanted): Self.same(wanted, type)
        case .tag(let name): tags[name]?.contains { Self.same($0, type) } ?? false
        }
    }

    /// DNS names compare case-insensitively (RFC 6763 §4.1.3 via RFC 1035), so `_IPP._tcp` is `_ipp._tcp`.
    static func same(_ a: ServiceType, _ b: ServiceType) -> Bool {
        a.transport == b.transport && a.name.lowercased() == b.name.lowercased()
    }

    public var description: String {
        switch self {
        case .any: "type=*"
        case .exact(let type): "type=\(type)"
        case .tag(let name): "tag=\(name)"
        }
    }
}

/// The islands a rule applies to: all, one by id, or one by name (compared case-insensitively).
public enum IslandMatch: Hashable, Sendable, CustomStringConvertible {
    case any
    case id(UInt64)
    case name(String)

    /// `*`, sixteen hex digits (an island id, as `z2z islands` prints it), or a name.
    public init(parsing text: String) throws(PolicyError) {
        if text == "*" {
            self = .any
        } else if let id = Self.islandID(text) {
            self = .id(id)
        } else if text.isEmpty || text.utf8.count > 63 || text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw .islandInvalid(text)
        } else {
            self = .name(text)
        }
    }

    public func matches(_ island: PolicyIsland) -> Bool {
        switch self {
        case .any: true
        case .id(let id): island.id == id
        case .name(let name): island.name.map { $0.lowercased() == name.lowercased() } ?? false
        }
    }

    public var description: String {
        switch self {
        case .any: "*"
        case .id(let id): Self.hex(id)
        case .name(let name): name
        }
    }

    /// Sixteen hex digits → an island id (the same text `IslandID` prints).
    static func islandID(_ text: String) -> UInt64? {
        guard text.utf8.count == 16, text.allSatisfy(\.isHexDigit) else { return nil }
        return UInt64(text, radix: 16)
    }

    public static func hex(_ id: UInt64) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Why a policy value was refused.
public enum PolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    case islandInvalid(String)
    /// A name or host pattern that cannot be read, and why.
    case globInvalid(String, String)
    /// An address prefix that cannot be read, and why.
    case prefixInvalid(String, String)

    public var description: String {
        switch self {
        case .islandInvalid(let text):
            "\"\(text)\" is not an island: use \"*\", an island id (16 hex digits) or a name of 1 to 63 bytes without control characters"
        case .globInvalid(let text, let why):
            "\"\(text)\" is not a name pattern: \(why)"
        case .prefixInvalid(let text, let why):
            "\"\(text)\" is not an address prefix such as 10.1.2.0/24 or fd00:1::/64: \(why)"
        }
    }
}
