import Foundation

/// The few fields of `z2z services --json` the scenarios read. Decoded loosely on purpose:
/// a scenario asks "who imported what from where", and should not break when the API adds
/// or reshapes fields it does not read.
public struct ListedService: Decodable, Equatable, Sendable {
    public struct Island: Decodable, Equatable, Sendable {
        public var name: String?
    }

    public var name: String
    public var type: String
    /// `local` or `imported`.
    public var origin: String?
    public var island: Island?
    public var host: String?

    public init(name: String, type: String, origin: String?, island: String?, host: String?) {
        self.name = name
        self.type = type
        self.origin = origin
        self.island = island.map { Island(name: $0) }
        self.host = host
    }

    public var isImported: Bool { origin == "imported" }
    public var islandName: String? { island?.name }

    /// The output of `z2z services --json`: `{"services": [...]}` (or a bare array); nil
    /// for anything else.
    public static func decode(_ json: String) -> [ListedService]? {
        struct Wrapped: Decodable { var services: [ListedService] }
        let data = Data(json.utf8)
        if let wrapped = try? JSONDecoder().decode(Wrapped.self, from: data) { return wrapped.services }
        return try? JSONDecoder().decode([ListedService].self, from: data)
    }
}

/// The role in `z2z status --json` (`leader`, `follower`, …); nil for anything else.
public func roleInStatus(_ json: String) -> String? {
    struct Status: Decodable { var role: String? }
    return (try? JSONDecoder().decode(Status.self, from: Data(json.utf8)))?.role
}

/// How z2z marks the hosts it synthesizes for imports: `<name>-z2z-<island>`. A host
/// marked twice was imported from an import, i.e. re-exported: the loop z2z must never make.
public enum HostMark {
    public static func isMarkedTwice(_ host: String) -> Bool {
        host.components(separatedBy: "-z2z-").count - 1 > 1
    }
}

/// The loops scenario's audit of one gateway's imports: none may come from the gateway's
/// own island, from an island other than the service's home, or through a host marked twice.
public enum ImportAudit {
    /// The imports among `listed` that break one of those rules. `homes` maps each test
    /// service's name to the island it is published on.
    public static func reexports(in listed: [ListedService], gatewayIsland: String, homes: [String: String]) -> [ListedService] {
        listed.filter(\.isImported).filter { service in
            let island = service.islandName
            return island == gatewayIsland || island != homes[service.name] || HostMark.isMarkedTwice(service.host ?? "")
        }
    }
}

/// Counting what daemons logged: conflicts in avahi-daemon's log, collisions in z2zd's.
public enum LogScan {
    /// Lines of `text` that contain `word`, ignoring case.
    public static func lines(in text: String, containing word: String) -> Int {
        text.split(whereSeparator: \.isNewline).count { $0.range(of: word, options: .caseInsensitive) != nil }
    }
}
