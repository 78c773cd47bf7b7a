import Config

/// `GET|POST /api/v1/config/check` and `z2z config check`: whether a configuration is valid,
/// and every problem with its key and line.
public struct ConfigCheckResult: Codable, Hashable, Sendable {
    public var ok: Bool
    /// The file checked; absent for text posted to the API, or when the daemon runs on defaults.
    public var file: String?
    public var problems: [Problem]

    public init(ok: Bool, file: String?, problems: [Problem]) {
        self.ok = ok
        self.file = file
        self.problems = problems
    }

    public init(file: String?, result: Result<GatewayConfiguration, ConfigError>) {
        switch result {
        case .success: self.init(ok: true, file: file, problems: [])
        case .failure(let error): self.init(ok: false, file: file, problems: error.problems.map(Problem.init))
        }
    }

    /// One thing wrong, as `ConfigProblem` has it.
    public struct Problem: Codable, Hashable, Sendable, CustomStringConvertible {
        /// `file`, `environment` or `flag`.
        public var source: String
        /// The file path, variable name or flag.
        public var location: String?
        public var line: Int?
        public var column: Int?
        /// TOML dotted key, `policy.rule[2].action`.
        public var key: String?
        /// `syntax`, `unreadable_file`, `unknown_key`, `wrong_type`, `missing_key`, `out_of_range`, `invalid_value`, `conflict`.
        public var reason: String
        public var message: String
        /// The whole problem on one line, compiler style.
        public var description: String

        public init(_ problem: ConfigProblem) {
            switch problem.source {
            case .file(let path, let line, let column):
                (source, location, self.line, self.column) = ("file", path, line, column)
            case .environment(let variable):
                (source, location) = ("environment", variable)
            case .flag(let flag):
                (source, location) = ("flag", flag)
            }
            key = problem.key
            reason = problem.reason.rawValue
            message = problem.message
            description = problem.description
        }

        enum CodingKeys: String, CodingKey {
            case source
            case location
            case line
            case column
            case key
            case reason
            case message
            case description
        }
    }

    enum CodingKeys: String, CodingKey {
        case ok
        case file
        case problems
    }
}
