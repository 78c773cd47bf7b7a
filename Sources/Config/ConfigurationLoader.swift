import Foundation

/// Merges the TOML file, the `Z2Z_*` environment and the z2zd flags, in that order (later
/// wins), into one validated `GatewayConfiguration`, or every problem found.
///
/// Which file: `--config`, else `Z2Z_CONFIG` (both must exist), else `/etc/z2z/z2z.toml`
/// when it exists, else none (the defaults). `load()` reads the file anew on every call, so
/// the same loader serves the start, each reload and `config check`.
public struct ConfigurationLoader: Sendable {
    /// The `--config` flag.
    public var configFile: String?
    public var flags: ConfigurationOverrides
    public var environment: [String: String]
    /// The file read when neither `--config` nor `Z2Z_CONFIG` names one, if it exists.
    public var defaultFilePath: String

    /// Files larger than this are refused before reading: no configuration is that long.
    public static let maximumFileSize = 1 << 20

    public init(configFile: String? = nil, flags: ConfigurationOverrides = .init(),
                environment: [String: String] = ProcessInfo.processInfo.environment,
                defaultFilePath: String = GatewayConfiguration.defaultFilePath) {
        self.configFile = configFile
        self.flags = flags
        self.environment = environment
        self.defaultFilePath = defaultFilePath
    }

    /// The file `load()` reads: its path and whether it must exist; nil when there is none.
    public var file: (path: String, required: Bool)? {
        if let configFile { return (configFile, true) }
        if let named = environment["Z2Z_CONFIG"], !named.isEmpty { return (named, true) }
        if FileManager.default.fileExists(atPath: defaultFilePath) { return (defaultFilePath, false) }
        return nil
    }

    public func load() -> Result<GatewayConfiguration, ConfigError> {
        var configuration = GatewayConfiguration.defaults
        var problems: [ConfigProblem] = []
        var lines: KeyLines?
        let file = self.file
        if let file {
            do {
                let text = try Self.readText(file.path)
                let read = FileReader.read(text, path: file.path)
                configuration = read.0
                problems += read.1
                lines = KeyLines(text)
            } catch {
                problems += error.problems
            }
        }
        // The file's problems come first; a value that is wrong in the file and overridden is still reported.
        let environmentOverrides = ConfigurationOverrides(environment: environment)
        problems += environmentOverrides.apply(to: &configuration) { .environment(variable: $0.variable) }
        problems += flags.apply(to: &configuration) { .flag($0.flag) }
        if problems.isEmpty {
            problems += Self.conflicts(in: configuration) { key in
                if let setting = ConfigurationOverrides.Setting.allCases.first(where: { $0.key == key }) {
                    if flags.isSet(setting) { return .flag(setting.flag) }
                    if environmentOverrides.isSet(setting) { return .environment(variable: setting.variable) }
                }
                return .file(path: file?.path, line: lines?.line(of: ConfigKeyPath(stringLiteral: key)), column: nil)
            }
        }
        return problems.isEmpty ? .success(configuration) : .failure(ConfigError(problems))
    }

    /// Parses a TOML text alone, without environment or flags (`POST /config/check`).
    public static func parse(_ text: String, path: String? = nil) -> Result<GatewayConfiguration, ConfigError> {
        let (configuration, problems) = FileReader.read(text, path: path)
        guard problems.isEmpty else { return .failure(ConfigError(problems)) }
        let lines = KeyLines(text)
        let conflicts = Self.conflicts(in: configuration) { key in
            .file(path: path, line: lines.line(of: ConfigKeyPath(stringLiteral: key)), column: nil)
        }
        return conflicts.isEmpty ? .success(configuration) : .failure(ConfigError(conflicts))
    }

    /// Reads and parses one file alone (`z2z config check FILE`).
    public static func check(file path: String) -> Result<GatewayConfiguration, ConfigError> {
        do { return parse(try readText(path), path: path) } catch { return .failure(error) }
    }

    static func readText(_ path: String) throws(ConfigError) -> String {
        func unreadable(_ message: String) -> ConfigError {
            ConfigError(ConfigProblem(source: .file(path: path, line: nil, column: nil), key: nil, reason: .unreadableFile, message: message))
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw unreadable("no such file")
        }
        guard !isDirectory.boolValue else { throw unreadable("is a directory, not a TOML file") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maximumFileSize else { throw unreadable("\(size) bytes is more than a configuration file holds (at most \(maximumFileSize))") }
        guard let data = FileManager.default.contents(atPath: path) else { throw unreadable("cannot be read (permissions?)") }
        guard let text = String(validating: data, as: UTF8.self) else { throw unreadable("is not UTF-8 text") }
        return text
    }

    /// Settings that are each valid but cannot hold together.
    static func conflicts(in configuration: GatewayConfiguration, source: (String) -> ConfigProblem.Source) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        // The SIP redirect service listens on TCP as well as UDP, as does the API.
        if configuration.sip.enabled, configuration.sip.port == configuration.api.listen.port {
            problems.append(ConfigProblem(
                source: source("sip.port"), key: "sip.port", reason: .conflict,
                message: "port \(configuration.sip.port) is also the API's port (api.listen = \"\(configuration.api.listen)\"); choose another"))
        }
        let security = configuration.security
        if security.open, security.networkKey != nil || security.networkKeyFile != nil {
            let key = security.networkKeyFile != nil ? "security.network_key_file" : "security.network_key"
            problems.append(ConfigProblem(
                source: source(key), key: key, reason: .conflict,
                message: "security.open = true runs without a network key; remove the key or the open mode"))
        }
        if security.networkKey != nil, security.networkKeyFile != nil {
            problems.append(ConfigProblem(
                source: source("security.network_key"), key: "security.network_key", reason: .conflict,
                message: "give the network key inline or as network_key_file, not both"))
        }
        return problems
    }
}

extension ConfigurationOverrides {
    func isSet(_ setting: Setting) -> Bool {
        switch setting {
        case .stateDirectory: stateDirectory != nil
        case .dhtPort: dhtPort != nil
        case .api: api != nil
        case .network: network != nil
        case .bootstrap: !bootstrap.isEmpty
        case .island: island != nil
        case .priority: priority != nil
        case .logLevel: logLevel != nil
        case .networkKeyFile: networkKeyFile != nil
        case .links: !links.isEmpty
        }
    }
}
