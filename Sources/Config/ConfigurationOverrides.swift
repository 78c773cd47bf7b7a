/// Settings given outside the TOML file, as text: the z2zd flags or the `Z2Z_*` environment.
///
/// Kept as text and validated by the same rules as the file, so `--dht-port 70000` and
/// `port = 70000` are refused with the same message (naming the flag or the variable).
public struct ConfigurationOverrides: Hashable, Sendable {
    public var stateDirectory: String?
    public var dhtPort: String?
    public var api: String?
    public var network: String?
    /// Replaces `dht.bootstrap` as a whole when non-empty.
    public var bootstrap: [String]
    public var island: String?
    public var priority: String?
    public var logLevel: String?
    public var networkKeyFile: String?
    /// Replaces the `[[link]]` tables as a whole when non-empty (`IFACE` or `IFACE=ISLAND` each).
    public var links: [String]

    public init(stateDirectory: String? = nil, dhtPort: String? = nil, api: String? = nil, network: String? = nil,
                bootstrap: [String] = [], island: String? = nil, priority: String? = nil, logLevel: String? = nil,
                networkKeyFile: String? = nil, links: [String] = []) {
        self.stateDirectory = stateDirectory
        self.dhtPort = dhtPort
        self.api = api
        self.network = network
        self.bootstrap = bootstrap
        self.island = island
        self.priority = priority
        self.logLevel = logLevel
        self.networkKeyFile = networkKeyFile
        self.links = links
    }

    /// The `Z2Z_*` variables of `environment`; an empty variable counts as unset.
    /// `Z2Z_BOOTSTRAP` holds seeds separated by commas or spaces.
    public init(environment: [String: String]) {
        func value(_ setting: Setting) -> String? {
            guard let text = environment[setting.variable], !text.isEmpty else { return nil }
            return text
        }
        self.init(
            stateDirectory: value(.stateDirectory), dhtPort: value(.dhtPort), api: value(.api),
            network: value(.network),
            bootstrap: value(.bootstrap).map { $0.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init) } ?? [],
            island: value(.island), priority: value(.priority), logLevel: value(.logLevel),
            networkKeyFile: value(.networkKeyFile),
            links: value(.links).map { $0.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init) } ?? [])
    }

    /// The overridable settings: TOML key, flag and environment variable of each.
    enum Setting: CaseIterable {
        case stateDirectory, dhtPort, api, network, bootstrap, island, priority, logLevel, networkKeyFile, links

        var key: String {
            switch self {
            case .stateDirectory: "state_dir"
            case .dhtPort: "dht.port"
            case .api: "api.listen"
            case .network: "network"
            case .bootstrap: "dht.bootstrap"
            case .island: "island.name"
            case .priority: "island.priority"
            case .logLevel: "log_level"
            case .networkKeyFile: "security.network_key_file"
            case .links: "link"
            }
        }

        var flag: String {
            switch self {
            case .stateDirectory: "--state-dir"
            case .dhtPort: "--dht-port"
            case .api: "--api"
            case .network: "--network"
            case .bootstrap: "--bootstrap"
            case .island: "--island"
            case .priority: "--priority"
            case .logLevel: "--log-level"
            case .networkKeyFile: "--network-key-file"
            case .links: "--link"
            }
        }

        var variable: String {
            switch self {
            case .stateDirectory: "Z2Z_STATE_DIR"
            case .dhtPort: "Z2Z_DHT_PORT"
            case .api: "Z2Z_API"
            case .network: "Z2Z_NETWORK"
            case .bootstrap: "Z2Z_BOOTSTRAP"
            case .island: "Z2Z_ISLAND"
            case .priority: "Z2Z_PRIORITY"
            case .logLevel: "Z2Z_LOG_LEVEL"
            case .networkKeyFile: "Z2Z_NETWORK_KEY_FILE"
            case .links: "Z2Z_LINKS"
            }
        }
    }

    /// Applies every set value to `configuration`; returns the problems (naming flag or variable).
    func apply(to configuration: inout GatewayConfiguration, source: (Setting) -> ConfigProblem.Source) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        func set<V>(_ setting: Setting, _ text: String?, _ validate: (String) throws(Invalid) -> V, _ assign: (V) -> Void) {
            guard let text else { return }
            do {
                assign(try validate(text))
            } catch {
                problems.append(ConfigProblem(source: source(setting), key: setting.key, reason: error.reason, message: error.message))
            }
        }
        set(.stateDirectory, stateDirectory, Validate.stateDirectory) { configuration.stateDirectory = $0 }
        set(.dhtPort, dhtPort, { (text: String) throws(Invalid) in try Validate.port(try Validate.integer(text)) }) {
            configuration.dht.port = $0
        }
        set(.api, api, Validate.listen) { configuration.api.listen = $0 }
        set(.network, network, Validate.network) { configuration.network = $0 }
        if !bootstrap.isEmpty {
            var seeds: [HostPort] = []
            for text in bootstrap { set(.bootstrap, text, Validate.bootstrap) { seeds.append($0) } }
            if seeds.count == bootstrap.count { configuration.dht.bootstrap = seeds }
        }
        set(.island, island, Validate.islandName) { configuration.island.name = $0 }
        set(.priority, priority, { (text: String) throws(Invalid) in try Validate.priority(try Validate.integer(text)) }) {
            configuration.island.priority = $0
        }
        set(.logLevel, logLevel, Validate.logLevel) { configuration.logLevel = $0 }
        // A key file given outside the file replaces an inline key of the file.
        set(.networkKeyFile, networkKeyFile, Validate.keyFile) {
            configuration.security.networkKeyFile = $0
            configuration.security.networkKey = nil
        }
        if !links.isEmpty {
            var parsed: [LinkSettings] = []
            for text in links { set(.links, text, Validate.link) { parsed.append($0) } }
            if parsed.count == links.count {
                let whole = LinkSettings.problems(parsed)
                for problem in whole {
                    problems.append(ConfigProblem(source: source(.links), key: Setting.links.key, reason: .conflict, message: problem))
                }
                if whole.isEmpty { configuration.links = parsed }
            }
        }
        return problems
    }
}
