import Synchronization

/// The daemon's running configuration and its reload (SIGHUP): a reload either applies a
/// whole new, valid configuration or nothing, never a part.
///
/// Keys that name sockets, files or the overlay (`GatewayConfiguration.restartKeys`) keep
/// their running values; the reload reports them so the daemon can say a restart is needed.
public final class ReloadableConfiguration: Sendable {
    public let loader: ConfigurationLoader
    private let state: Mutex<GatewayConfiguration>

    /// Loads the first configuration; z2zd refuses to start when this throws.
    public init(loader: ConfigurationLoader) throws(ConfigError) {
        self.loader = loader
        state = Mutex(try loader.load().get())
    }

    public var current: GatewayConfiguration { state.withLock { $0 } }

    /// Loads and validates again; on success the new configuration is current, on failure the old one stays.
    public func reload() -> Result<ConfigurationReload, ConfigError> {
        let loaded: GatewayConfiguration
        switch loader.load() {
        case .failure(let error): return .failure(error)
        case .success(let configuration): loaded = configuration
        }
        return .success(state.withLock { running in
            var next = loaded
            next.network = running.network
            next.stateDirectory = running.stateDirectory
            next.api = running.api
            next.dht.engine = running.dht.engine
            next.dht.port = running.dht.port
            next.sip = running.sip
            next.dht.subnetLimit = running.dht.subnetLimit
            next.security = running.security
            next.relay = running.relay
            next.links = running.links
            let reload = ConfigurationReload(
                configuration: next, changedKeys: next.changedKeys(from: running),
                keysNeedingRestart: loaded.changedKeys(from: next))
            running = next
            return reload
        })
    }

    /// Loads and validates without applying (`z2z config check` against the running daemon).
    public func check() -> Result<GatewayConfiguration, ConfigError> { loader.load() }
}

/// What a successful reload did.
public struct ConfigurationReload: Hashable, Sendable {
    /// The configuration now current.
    public var configuration: GatewayConfiguration
    /// Keys whose new values are now in effect.
    public var changedKeys: [String]
    /// Keys changed in the file (or environment) that take effect only after a restart.
    public var keysNeedingRestart: [String]
}
