/// Why a configuration was refused: every problem found, each naming its key and where it
/// came from (file and line, environment variable, or flag). Never empty.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(_ problems: [ConfigProblem]) {
        precondition(!problems.isEmpty, "a ConfigError has at least one problem")
        self.problems = problems
    }

    public init(_ problem: ConfigProblem) { self.init([problem]) }

    /// One problem a line, compiler style: `/etc/z2z/z2z.toml:12: dht.port: ...`.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// One thing wrong with the configuration.
public struct ConfigProblem: Hashable, Sendable, CustomStringConvertible {
    /// Where the offending value came from.
    public enum Source: Hashable, Sendable {
        /// A TOML file (`path` nil for text that came without one, such as a `POST /config/check`).
        case file(path: String?, line: Int?, column: Int?)
        case environment(variable: String)
        case flag(String)
    }

    public var source: Source
    /// The key in TOML dotted form, `policy.rule[2].action` (rules counted from 1); nil for a syntax error.
    public var key: String?
    public var reason: ConfigReason
    /// For a person: what is wrong and what would be right.
    public var message: String

    public init(source: Source, key: String?, reason: ConfigReason, message: String) {
        self.source = source
        self.key = key
        self.reason = reason
        self.message = message
    }

    public var line: Int? {
        if case .file(_, let line, _) = source { return line }
        return nil
    }

    public var column: Int? {
        if case .file(_, _, let column) = source { return column }
        return nil
    }

    public var description: String {
        let location: String
        switch source {
        case .file(let path, let line, let column):
            var parts = [path ?? "<text>"]
            if let line { parts.append(String(line)) }
            if let column { parts.append(String(column)) }
            location = parts.joined(separator: ":")
        case .environment(let variable):
            location = "environment \(variable)"
        case .flag(let flag):
            location = "flag \(flag)"
        }
        return "\(location): \(key.map { "\($0): " } ?? "")\(message)"
    }
}

/// The kind of a configuration problem; a stable code for logs, metrics and the API.
public enum ConfigReason: String, Hashable, Sendable, CaseIterable {
    case syntax
    case unreadableFile = "unreadable_file"
    case unknownKey = "unknown_key"
    case wrongType = "wrong_type"
    case missingKey = "missing_key"
    case outOfRange = "out_of_range"
    case invalidValue = "invalid_value"
    case conflict
}
