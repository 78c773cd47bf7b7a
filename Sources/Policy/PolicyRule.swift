import DNSSD

/// One permit/deny line of a policy. Every criterion must match; an omitted one matches anything.
public struct PolicyRule: Hashable, Sendable, CustomStringConvertible {
    public var action: PolicyAction
    public var direction: DirectionMatch
    public var type: TypeMatch
    public var island: IslandMatch
    /// Free text from the configuration, shown when the rule decides.
    public var comment: String?
    /// Where the rule starts in the configuration file, for messages.
    public var line: Int?

    public init(_ action: PolicyAction, direction: DirectionMatch = .both, type: TypeMatch = .any,
                island: IslandMatch = .any, comment: String? = nil, line: Int? = nil) {
        self.action = action
        self.direction = direction
        self.type = type
        self.island = island
        self.comment = comment
        self.line = line
    }

    public func matches(direction: PolicyDirection, type: ServiceType, island: PolicyIsland, tags: [String: Set<ServiceType>]) -> Bool {
        self.direction.matches(direction) && self.type.matches(type, tags: tags) && self.island.matches(island)
    }

    /// The rule in the configuration's own words: `deny import type=_ssh._tcp island=* # reason`.
    public var description: String {
        var text = "\(action) \(direction) \(type) island=\(island)"
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

    public var description: String {
        switch self {
        case .islandInvalid(let text):
            "\"\(text)\" is not an island: use \"*\", an island id (16 hex digits) or a name of 1 to 63 bytes without control characters"
        }
    }
}
