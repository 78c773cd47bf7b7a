import Config
import Foundation
import Testing

/// `[security]`: where the network key comes from, open mode, and the key file itself.
struct SecuritySectionTests {
    let directory = TemporaryDirectory()

    @Test func theDefaultIsAKeyInTheStateDirectoryNotOpenMode() {
        #expect(GatewayConfiguration.defaults.security == SecuritySettings())
        #expect(!GatewayConfiguration.defaults.security.open)
        #expect(SecuritySettings.defaultKeyFile(stateDirectory: "/var/lib/z2z") == "/var/lib/z2z/network.key")
    }

    @Test func theSectionReadsItsThreeKeys() throws {
        let file = try parsed("[security]\nnetwork_key_file = \"/etc/z2z/network.key\"\n")
        #expect(file.security.networkKeyFile == "/etc/z2z/network.key")
        let inline = try parsed("[security]\nnetwork_key = \"  sixteen or more bytes  \"\n")
        #expect(inline.security.networkKey == "sixteen or more bytes", "surrounding whitespace is not part of the key")
        #expect(try parsed("[security]\nopen = true\n").security.open)
        #expect(try parsed("[security]\nopen = true\n").warnings.contains { $0.contains("OPEN MODE") })
    }

    @Test func badOrConflictingSettingsAreRefusedWithTheirKey() {
        #expect(problems("[security]\nnetwork_key = \"short\"\n").map(\.key) == ["security.network_key"])
        #expect(problems("[security]\nopen = \"yes\"\n").map(\.reason) == [.wrongType])
        #expect(problems("[security]\nkey = \"x\"\n").map(\.reason) == [.unknownKey])
        let both = problems("[security]\nopen = true\nnetwork_key_file = \"/k\"\n")
        #expect(both.map(\.reason) == [.conflict])
        #expect(both.first?.line == 3)
        #expect(problems("[security]\nnetwork_key = \"sixteen or more bytes\"\nnetwork_key_file = \"/k\"\n").map(\.reason) == [.conflict])
    }

    @Test func theFlagAndTheEnvironmentNameAKeyFile() throws {
        let loader = ConfigurationLoader(flags: ConfigurationOverrides(networkKeyFile: "/from/flag"),
                                         environment: ["Z2Z_NETWORK_KEY_FILE": "/from/env"],
                                         defaultFilePath: directory.path + "/absent.toml")
        #expect(try loader.load().get().security.networkKeyFile == "/from/flag")
        let environment = ConfigurationLoader(environment: ["Z2Z_NETWORK_KEY_FILE": "/from/env"], defaultFilePath: directory.path + "/absent.toml")
        #expect(try environment.load().get().security.networkKeyFile == "/from/env")
    }

    @Test func aMissingDefaultKeyFileIsCreatedOnceForItsOwnerAndThenReused() throws {
        let (secret, origin, _) = try NetworkSecret.resolve(SecuritySettings(), stateDirectory: directory.path)
        let path = directory.path + "/network.key"
        #expect(origin == .generated(path))
        #expect(secret?.count == 64, "32 random bytes as hex")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try NetworkSecret.resolve(SecuritySettings(), stateDirectory: directory.path)
        #expect(again.origin == .file(path))
        #expect(again.secret == secret)
    }

    @Test func aKeyFileIsReadTrimmedAndRefusedWhenShortMissingOrWorldReadable() throws {
        let good = directory.write("good.key", "\n  a secret of enough bytes \n")
        let read = try NetworkSecret.resolve(SecuritySettings(networkKeyFile: good), stateDirectory: directory.path)
        #expect(read.secret == Array("a secret of enough bytes".utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: good)
        #expect(try NetworkSecret.resolve(SecuritySettings(networkKeyFile: good), stateDirectory: directory.path).warnings.count == 1)
        let short = directory.write("short.key", "too short\n")
        #expect(throws: NetworkSecret.Failure.self) { try NetworkSecret.read(short) }
        #expect(throws: NetworkSecret.Failure.self) { try NetworkSecret.read(directory.path + "/missing.key") }
        #expect(try NetworkSecret.resolve(SecuritySettings(open: true), stateDirectory: directory.path).secret == nil)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/network.key"), "open mode creates no key")
    }

    @Test func anInlineKeyInAConfigurationFileOthersCanReadIsWarnedAbout() throws {
        let settings = SecuritySettings(networkKey: "a secret of enough bytes")
        let file = directory.write("z2z.toml", "[security]\nnetwork_key = \"a secret of enough bytes\"\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        #expect(try NetworkSecret.resolve(settings, stateDirectory: directory.path, configurationFile: file).warnings.isEmpty)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let warnings = try NetworkSecret.resolve(settings, stateDirectory: directory.path, configurationFile: file).warnings
        #expect(warnings.count == 1 && warnings[0].contains("mode 644"), "\(warnings)")
        // A readable file that only names a key file gives nothing away.
        let naming = directory.write("naming.toml", "[security]\nnetwork_key_file = \"/etc/z2z/network.key\"\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: naming)
        #expect(try NetworkSecret.resolve(settings, stateDirectory: directory.path, configurationFile: naming).warnings.isEmpty)
    }
}
