import Config
import Foundation
import Policy
import Testing

/// SIGHUP semantics: all or nothing, and keys that need a restart stay as they run.
struct ReloadTests {
    let directory = TemporaryDirectory()

    @Test func aFailedReloadKeepsTheRunningConfiguration() throws {
        let file = directory.write("z2z.toml", "[island]\npriority = 10\n[policy]\ndefault = \"deny\"")
        let live = try ReloadableConfiguration(loader: ConfigurationLoader(configFile: file, environment: [:]))
        #expect(live.current.island.priority == 10)

        // A valid change next to an invalid one: neither applies.
        directory.write("z2z.toml", "[island]\npriority = 20\n[policy]\ndefault = \"maybe\"")
        let error = try #require(live.reload().failure)
        #expect(error.problems.map(\.key) == ["policy.default"])
        #expect(live.current.island.priority == 10)
        #expect(live.current.policy.defaultAction == .deny)
    }

    @Test func aGoodReloadAppliesEveryLiveKeyAndSaysWhatChanged() throws {
        let file = directory.write("z2z.toml", "[island]\npriority = 10")
        let live = try ReloadableConfiguration(loader: ConfigurationLoader(configFile: file, environment: [:]))
        directory.write("z2z.toml", "[island]\npriority = 20\n[[policy.rule]]\naction = \"deny\"")
        let reload = try live.reload().get()
        #expect(reload.changedKeys == ["island.priority", "policy"])
        #expect(reload.keysNeedingRestart.isEmpty)
        #expect(live.current.island.priority == 20)
        #expect(live.current.policy.rules.count == 1)
        #expect(reload.configuration == live.current)
    }

    @Test func keysThatNameSocketsOrFilesWaitForARestart() throws {
        let file = directory.write("z2z.toml", "")
        let live = try ReloadableConfiguration(loader: ConfigurationLoader(configFile: file, environment: [:]))
        directory.write("z2z.toml", """
            network = "other"
            state_dir = "/elsewhere"
            log_level = "debug"
            [api]
            listen = "127.0.0.1:9999"
            [island]
            name = "renamed"
            priority = 1
            heartbeat = 2
            [dht]
            engine = "opendht"
            port = 9998
            bootstrap = ["192.0.2.1"]
            structure_threshold = 3
            subnet_limit = 0
            [sip]
            enabled = false
            port = 9997
            mode = "proxy"
            registrar = false
            min_expires = 30
            max_expires = 120
            realm = "elsewhere"
            probe_contacts = false
            [sip.users]
            alice = "secret"
            [security]
            network_key_file = "/etc/z2z/network.key"
            [relay]
            mode = "always"
            port = 9996
            lan_routed = false
            [policy]
            default = "deny"
            [[link]]
            interface = "lan0"
            [[link]]
            interface = "lan1"
            """)
        let reload = try live.reload().get()
        // The three security keys exclude each other (a key inline, in a file, or none); one stands for them.
        #expect(Set(reload.keysNeedingRestart) == GatewayConfiguration.restartKeys.subtracting(["security.network_key", "security.open"]))
        #expect(Set(reload.changedKeys) == [
            "log_level", "island.name", "island.priority", "island.heartbeat", "dht.bootstrap",
            "dht.structure_threshold", "policy",
        ])
        #expect(live.current.network == "z2z" && live.current.dht.port == 7400 && live.current.sip.enabled)
        #expect(live.current.island.name == "renamed")
    }

    @Test func anInvalidFileAtStartIsRefused() {
        let file = directory.write("z2z.toml", "[dht]\nport = 0")
        #expect(throws: ConfigError.self) {
            _ = try ReloadableConfiguration(loader: ConfigurationLoader(configFile: file, environment: [:]))
        }
    }

    @Test func checkReportsWithoutApplying() throws {
        let file = directory.write("z2z.toml", "")
        let live = try ReloadableConfiguration(loader: ConfigurationLoader(configFile: file, environment: [:]))
        directory.write("z2z.toml", "[island]\npriority = 5")
        #expect(try live.check().get().island.priority == 5)
        #expect(live.current.island.priority == 100)
    }

    @Test func changedKeysListsNothingForEqualConfigurations() {
        #expect(GatewayConfiguration.defaults.changedKeys(from: .defaults).isEmpty)
    }
}
