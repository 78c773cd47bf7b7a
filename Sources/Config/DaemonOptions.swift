import ArgumentParser

/// The z2zd flags that override the configuration file, for `@OptionGroup var options: DaemonOptions`.
///
/// Values stay text here; `ConfigurationLoader` validates them with the file's rules, so an
/// error names the flag and the key it sets.
public struct DaemonOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("config"), help: ArgumentHelp(
        "TOML configuration file (default: \(GatewayConfiguration.defaultFilePath) if it exists).", valueName: "file"))
    public var configFile: String?

    @Option(help: ArgumentHelp("State directory: identity, island id, caches (default: /var/lib/z2z).", valueName: "dir"))
    public var stateDir: String?

    @Option(help: ArgumentHelp("UDP port for the DHT and island heartbeats (default: \(GatewayConfiguration.defaultDHTPort)).", valueName: "n"))
    public var dhtPort: String?

    @Option(help: ArgumentHelp("Address of the local HTTP API (default: 127.0.0.1:\(GatewayConfiguration.defaultAPIPort)).", valueName: "host:port"))
    public var api: String?

    @Option(help: ArgumentHelp("Network name: gateways meet only gateways of the same network (default: z2z).", valueName: "name"))
    public var network: String?

    @Option(help: ArgumentHelp("Another island's gateway to meet first; repeatable; replaces dht.bootstrap.", valueName: "host:port"))
    public var bootstrap: [String] = []

    @Option(help: ArgumentHelp("This island's name, for people and policy rules.", valueName: "name"))
    public var island: String?

    @Option(help: ArgumentHelp("Election priority 0-255: the highest live gateway leads (default: 100).", valueName: "n"))
    public var priority: String?

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical (default: info).", valueName: "level"))
    public var logLevel: String?

    @Option(help: ArgumentHelp(
        "File with the network's shared secret; gateways without it cannot join (default: <state-dir>/network.key, created if missing).",
        valueName: "file"))
    public var networkKeyFile: String?

    @Option(help: ArgumentHelp(
        "Router mode: this interface is an island of its own (named ISLAND, default IFACE); repeatable, two or more; replaces the [[link]] tables.",
        valueName: "iface[=island]"))
    public var link: [String] = []

    public init() {}

    public var overrides: ConfigurationOverrides {
        ConfigurationOverrides(stateDirectory: stateDir, dhtPort: dhtPort, api: api, network: network,
                               bootstrap: bootstrap, island: island, priority: priority, logLevel: logLevel,
                               networkKeyFile: networkKeyFile, links: link)
    }

    /// A loader for these flags and this process's environment.
    public func loader() -> ConfigurationLoader {
        ConfigurationLoader(configFile: configFile, flags: overrides)
    }
}
