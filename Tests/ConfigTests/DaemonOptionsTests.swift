import ArgumentParser
import Config
import Testing

/// The z2zd flags as a person types them.
struct DaemonOptionsTests {
    @Test func parsesEveryFlagIntoOverrides() throws {
        let options = try DaemonOptions.parse([
            "--config", "/etc/z2z/other.toml", "--state-dir", "/srv/z2z", "--dht-port", "7500",
            "--api", "127.0.0.1:7501", "--network", "lab", "--bootstrap", "192.0.2.1:7400",
            "--bootstrap", "192.0.2.2:7400", "--island", "office", "--priority", "150", "--log-level", "debug",
        ])
        #expect(options.configFile == "/etc/z2z/other.toml")
        #expect(options.overrides == ConfigurationOverrides(
            stateDirectory: "/srv/z2z", dhtPort: "7500", api: "127.0.0.1:7501", network: "lab",
            bootstrap: ["192.0.2.1:7400", "192.0.2.2:7400"], island: "office", priority: "150", logLevel: "debug"))
        #expect(options.loader().configFile == "/etc/z2z/other.toml")
    }

    @Test func noFlagsOverrideNothing() throws {
        let options = try DaemonOptions.parse([])
        #expect(options.overrides == ConfigurationOverrides())
        #expect(options.configFile == nil)
    }

    @Test func helpNamesEveryFlagAndItsDefault() {
        let help = DaemonOptions.helpMessage()
        for flag in ["--config", "--state-dir", "--dht-port", "--api", "--network", "--bootstrap", "--island", "--priority"] {
            #expect(help.contains(flag), "\(flag)")
        }
        #expect(help.contains("7400") && help.contains("127.0.0.1:7401"))
    }
}
