import Config
import Foundation
import Testing

/// File, then environment, then flags; which file; errors that name the flag or variable.
struct ConfigurationLoaderTests {
    let directory = TemporaryDirectory()

    func loader(file: String? = nil, flags: ConfigurationOverrides = .init(), environment: [String: String] = [:]) -> ConfigurationLoader {
        ConfigurationLoader(configFile: file, flags: flags, environment: environment,
                            defaultFilePath: directory.path + "/absent-default.toml")
    }

    @Test func zeroFlagsNoFileNoEnvironmentGivesTheDefaults() throws {
        let loader = loader()
        #expect(loader.file == nil)
        #expect(try loader.load().get() == .defaults)
    }

    @Test func theRelaySectionIsReadAndABadModeIsRefusedWithItsKeyAndLine() throws {
        let file = directory.write("z2z.toml", "[relay]\nmode = \"always\"\nport = 7503\nlan_routed = false\n")
        let relay = try loader(file: file).load().get().relay
        #expect(relay == RelaySettings(mode: .always, port: 7503, lanRouted: false))
        #expect(RelaySettings().mode == .auto, "auto by default (issue 14)")
        #expect(relay.port(dhtPort: 7400) == 7503 && RelaySettings().port(dhtPort: 7400) == 7403)
        let bad = directory.write("bad.toml", "[relay]\nmode = \"sometimes\"\n")
        let problem = try #require(loader(file: bad).load().failure?.problems.first)
        #expect(problem.description.contains("relay.mode") && problem.description.contains(":2:"), "\(problem)")
    }

    @Test func theDefaultFileIsReadWhenItExists() throws {
        let path = directory.write("z2z.toml", "network = \"from-default-file\"")
        let loader = ConfigurationLoader(environment: [:], defaultFilePath: path)
        #expect(loader.file?.path == path && loader.file?.required == false)
        #expect(try loader.load().get().network == "from-default-file")
    }

    @Test func anExplicitFileMustExist() throws {
        let missing = directory.path + "/missing.toml"
        let problem = try #require(loader(file: missing).load().failure?.problems.first)
        #expect(problem.reason == .unreadableFile)
        #expect(problem.description == "\(missing): no such file")
        #expect(loader(environment: ["Z2Z_CONFIG": missing]).load().failure?.problems.first?.reason == .unreadableFile)
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFile() throws {
        let file = directory.write("z2z.toml", """
            network = "file"
            [island]
            name = "file-island"
            priority = 1
            [dht]
            port = 1000
            """)
        let environment = ["Z2Z_NETWORK": "environment", "Z2Z_PRIORITY": "2", "Z2Z_DHT_PORT": "2000"]
        let flags = ConfigurationOverrides(dhtPort: "3000")
        let configuration = try loader(file: file, flags: flags, environment: environment).load().get()
        #expect(configuration.island.name == "file-island")
        #expect(configuration.network == "environment")
        #expect(configuration.island.priority == 2)
        #expect(configuration.dht.port == 3000)
    }

    @Test func everyFlagSetsItsKey() throws {
        let flags = ConfigurationOverrides(
            stateDirectory: "/srv/z2z", dhtPort: "7500", api: "127.0.0.1:7501", network: "n2",
            bootstrap: ["192.0.2.1:7400", "192.0.2.2"], island: "lab", priority: "7", logLevel: "trace")
        let configuration = try loader(flags: flags).load().get()
        #expect(configuration.stateDirectory == "/srv/z2z")
        #expect(configuration.dht.port == 7500)
        #expect(configuration.api.listen.description == "127.0.0.1:7501")
        #expect(configuration.network == "n2")
        #expect(configuration.dht.bootstrap.map(\.description) == ["192.0.2.1:7400", "192.0.2.2:7400"])
        #expect(configuration.island.name == "lab")
        #expect(configuration.island.priority == 7)
        #expect(configuration.logLevel == .trace)
    }

    @Test func bootstrapFlagsReplaceTheFileListAndTheEnvironmentSplitsOnCommasAndSpaces() throws {
        let file = directory.write("z2z.toml", "[dht]\nbootstrap = [\"192.0.2.9:7400\"]")
        let fromEnvironment = try loader(file: file, environment: ["Z2Z_BOOTSTRAP": "192.0.2.1:1, 192.0.2.2:2 192.0.2.3"]).load().get()
        #expect(fromEnvironment.dht.bootstrap.map(\.description) == ["192.0.2.1:1", "192.0.2.2:2", "192.0.2.3:7400"])
        let fromFlags = try loader(file: file, flags: .init(bootstrap: ["192.0.2.4:4"])).load().get()
        #expect(fromFlags.dht.bootstrap.map(\.description) == ["192.0.2.4:4"])
    }

    @Test func aBadFlagNamesTheFlagAndTheKey() throws {
        let problem = try #require(loader(flags: .init(dhtPort: "70000")).load().failure?.problems.first)
        #expect(problem.source == .flag("--dht-port"))
        #expect(problem.key == "dht.port" && problem.reason == .outOfRange)
        #expect(problem.description == "flag --dht-port: dht.port: 70000 is out of range (1 to 65535)")
        #expect(loader(flags: .init(priority: "high")).load().failure?.problems.first?.reason == .wrongType)
    }

    @Test func aBadVariableNamesTheVariable() throws {
        let problem = try #require(loader(environment: ["Z2Z_API": "nowhere"]).load().failure?.problems.first)
        #expect(problem.source == .environment(variable: "Z2Z_API"))
        #expect(problem.description.hasPrefix("environment Z2Z_API: api.listen: "))
    }

    @Test func emptyVariablesCountAsUnset() throws {
        #expect(try loader(environment: ["Z2Z_NETWORK": "", "Z2Z_CONFIG": ""]).load().get() == .defaults)
    }

    @Test func fileProblemsAndFlagProblemsAreAllReported() throws {
        let file = directory.write("z2z.toml", "[dht]\nport = \"x\"")
        let found = try #require(loader(file: file, flags: .init(network: "bad name")).load().failure?.problems)
        #expect(found.map(\.key) == ["dht.port", "network"])
        #expect(found[0].source == .file(path: file, line: 2, column: nil))
    }

    @Test func aConflictCausedByAFlagNamesTheFlag() throws {
        let problem = try #require(loader(flags: .init(api: "127.0.0.1:5060")).load().failure?.problems.first)
        #expect(problem.reason == .conflict && problem.key == "sip.port")
        // sip.port itself came from the defaults: the flag that made the clash is on api.listen,
        // but the key in conflict is sip.port, whose source is the file (none here).
        #expect(problem.source == .file(path: nil, line: nil, column: nil))
    }
}
