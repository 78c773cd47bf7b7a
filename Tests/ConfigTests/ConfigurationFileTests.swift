import Config
import Foundation
import Policy
import DNSSD
import Testing

/// The TOML file: every key, every kind of error with its key and line.
struct ConfigurationFileTests {
    @Test func shippedFileParsesToExactlyTheDefaults() throws {
        let result = ConfigurationLoader.check(file: shippedConfigurationFile)
        let configuration = try result.get()
        #expect(configuration == .defaults)
    }

    @Test func shippedFileMentionsEveryKeyItDocuments() throws {
        // Uncommenting the examples must give a valid file too: they are documentation.
        let text = try String(contentsOfFile: shippedConfigurationFile, encoding: .utf8)
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            for example in ["# name = ", "# bootstrap = ", "# printing = ", "# media = ", "# [[policy.rule]]", "# action = ",
                            "# direction = ", "# type = ", "# tag = ", "# island = ", "# address = ", "# host = ", "# comment = ",
                            "# from = ", "# to = ", "# one_way = ", "# [policy.zones]", "# staff = ", "# lecture = ",
                            "# [[link]]", "# interface = "] where line.hasPrefix(example) {
                return line.dropFirst(2)
            }
            return line
        }.joined(separator: "\n").replacingOccurrences(of: "bootstrap = []\n", with: "")
        let configuration = try parsed(uncommented)
        #expect(configuration.island.name == "office")
        #expect(configuration.dht.bootstrap.map(\.description) == ["192.0.2.10:7400", "gw.branch.example.org:7400"])
        #expect(configuration.policy.rules.count == 5)
        #expect(configuration.policy.rules[4].oneWay && configuration.policy.rules[4].from?.members.count == 2)
        #expect(configuration.links.map(\.description) == ["eth1=staff", "eth1.20=students"])
        #expect(configuration.policy.rules[1].type == .tag("printing"))
        #expect(configuration.policy.rules[2].address?.description == "10.20.0.0/16")
        #expect(configuration.policy.rules[3].name?.text == "Staff Room*" && configuration.policy.rules[3].host?.text == "staff-?")
        #expect(configuration.policy.tags["media"]?.count == 4)
    }

    @Test func emptyTextGivesTheDefaults() throws {
        #expect(try parsed("") == .defaults)
        #expect(GatewayConfiguration.defaults.api.listen.description == "127.0.0.1:7401")
        #expect(GatewayConfiguration.defaults.dht.port == 7400)
        #expect(GatewayConfiguration.defaults.dht.structureThreshold == 24)
        #expect(GatewayConfiguration.defaults.island.heartbeat == .milliseconds(750))
        #expect(GatewayConfiguration.defaults.policy == .permitAll)
    }

    @Test func everyKeyIsRead() throws {
        let configuration = try parsed("""
            network = "lab-net"
            state_dir = "/tmp/z2z-state"
            log_level = "debug"
            [api]
            listen = "[::1]:9000"
            [island]
            name = "Büro 2"
            priority = 200
            heartbeat = 0.25
            [dht]
            engine = "opendht"
            port = 17400
            bootstrap = ["192.0.2.1", "seed.example.org:7500", "[2001:db8::1]:7400"]
            structure_threshold = 32
            [sip]
            enabled = false
            port = 5070
            """)
        #expect(configuration.network == "lab-net")
        #expect(configuration.stateDirectory == "/tmp/z2z-state")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.api.listen.description == "[::1]:9000")
        #expect(configuration.api.listen.isLoopback)
        #expect(configuration.island.name == "Büro 2")
        #expect(configuration.island.priority == 200)
        #expect(configuration.island.heartbeat == .milliseconds(250))
        #expect(configuration.dht.engine == .opendht)
        #expect(configuration.dht.port == 17400)
        #expect(configuration.dht.bootstrap.map(\.description) == ["192.0.2.1:7400", "seed.example.org:7500", "[2001:db8::1]:7400"])
        #expect(configuration.dht.structureThreshold == 32)
        #expect(configuration.sip == SIPSettings(enabled: false, port: 5070))
    }

    @Test func heartbeatTakesAnIntegerNumberOfSecondsToo() throws {
        #expect(try parsed("[island]\nheartbeat = 2").island.heartbeat == .seconds(2))
    }

    @Test func syntaxErrorNamesLineAndColumnFromTOMLParser() throws {
        let found = problems("""
            network = "z2z"
            [dht]
            port = = 7400
            """)
        let problem = try #require(found.first)
        #expect(found.count == 1)
        #expect(problem.reason == .syntax)
        #expect(problem.line == 3)
        #expect(problem.column != nil)
        #expect(problem.description.hasPrefix("z2z.toml:3:"))
    }

    @Test func unknownKeyIsRefusedWithItsLineAndASuggestion() throws {
        let found = problems("""
            [dht]
            port = 7400
            bootstrapp = ["192.0.2.1:7400"]
            """)
        let problem = try #require(found.first)
        #expect(problem.reason == .unknownKey)
        #expect(problem.key == "dht.bootstrapp")
        #expect(problem.line == 3)
        #expect(problem.message.contains("did you mean \"bootstrap\"?"))
        #expect(problem.description.hasPrefix("z2z.toml:3: dht.bootstrapp: unknown key in [dht]"))
    }

    @Test func unknownTopLevelKeyAndUnknownSection() {
        let found = problems("""
            netwrok = "x"
            [dhtt]
            port = 1
            """)
        #expect(found.map(\.key) == ["dhtt", "netwrok"])
        #expect(found.map(\.line) == [2, 1])
        #expect(found.allSatisfy { $0.reason == .unknownKey })
    }

    @Test func wrongTypeNamesKeyLineAndWhatWasFound() throws {
        let found = problems("""
            [dht]

            port = "7400"
            """)
        let problem = try #require(found.first)
        #expect(problem.reason == .wrongType)
        #expect(problem.key == "dht.port" && problem.line == 3)
        #expect(problem.message == "expected an integer, found a string (\"7400\")")
    }

    @Test func outOfRangePortIsRefused() throws {
        let problem = try #require(problems("[sip]\nport = 70000").first)
        #expect(problem.reason == .outOfRange && problem.key == "sip.port" && problem.line == 2)
        #expect(try #require(problems("[dht]\nport = 0").first).reason == .outOfRange)
        #expect(try #require(problems("[island]\npriority = 256").first).reason == .outOfRange)
        #expect(try #require(problems("[island]\nheartbeat = 0.01").first).reason == .outOfRange)
        #expect(try #require(problems("[dht]\nstructure_threshold = 1").first).reason == .outOfRange)
    }

    @Test func badAddressesAreRefused() {
        for listen in ["127.0.0.1", "localhost:", "300.1.1.1:80", "::1:7401", "[::1", "[10.0.0.1]:80", "host name:80", "1.2.3:80"] {
            let found = problems("[api]\nlisten = \"\(listen)\"")
            #expect(found.count == 1 && found.first?.key == "api.listen" && found.first?.line == 2, "\(listen)")
        }
        let bootstrap = problems("[dht]\nbootstrap = [\"192.0.2.1:7400\", \"bad host:1\"]")
        #expect(bootstrap.map(\.key) == ["dht.bootstrap"])
    }

    @Test func badEnumerationsListTheChoices() throws {
        let problem = try #require(problems("[dht]\nengine = \"chord\"").first)
        #expect(problem.reason == .invalidValue)
        #expect(problem.message == "\"chord\" is not one of \"native\", \"opendht\"")
        #expect(try #require(problems("log_level = \"verbose\"").first).key == "log_level")
    }

    @Test func namesAreValidated() {
        #expect(problems("network = \"has space\"").first?.key == "network")
        #expect(problems("network = \"\"").first?.key == "network")
        #expect(problems("state_dir = \"relative/dir\"").first?.key == "state_dir")
        #expect(problems("[island]\nname = \"\"").first?.key == "island.name")
        #expect(problems("[island]\nname = \"1a2b3c4d5e6f7081\"").first?.message.contains("looks like an island id") == true)
        #expect(problems("[island]\nname = \"*\"").first?.key == "island.name")
        #expect(problems("[island]\nname = \"\(String(repeating: "x", count: 64))\"").first?.key == "island.name")
    }

    @Test func everyProblemIsReportedNotOnlyTheFirst() {
        let found = problems("""
            network = 5
            [dht]
            port = -1
            engine = "x"
            [sip]
            enabled = "yes"
            """)
        #expect(found.map(\.key) == ["network", "dht.engine", "dht.port", "sip.enabled"])
        #expect(found.map(\.line) == [1, 4, 3, 6])
    }

    @Test func aSectionThatIsNotATableIsRefused() throws {
        let problem = try #require(problems("dht = 5").first)
        #expect(problem.key == "dht" && problem.reason == .wrongType && problem.line == 1)
    }

    @Test func sipPortMayNotBeTheAPIPort() throws {
        let problem = try #require(problems("""
            [api]
            listen = "127.0.0.1:5060"
            [sip]
            port = 5060
            """).first)
        #expect(problem.reason == .conflict && problem.key == "sip.port" && problem.line == 4)
        #expect(problems("[api]\nlisten = \"127.0.0.1:5060\"\n[sip]\nenabled = false").isEmpty)
    }

    @Test func binaryAndHugeFilesAreRefusedBeforeParsing() throws {
        let directory = TemporaryDirectory()
        let binary = directory.path + "/binary.toml"
        _ = FileManager.default.createFile(atPath: binary, contents: Data([0xff, 0xfe, 0x00]))
        let problem = try #require(ConfigurationLoader.check(file: binary).failure?.problems.first)
        #expect(problem.reason == .unreadableFile && problem.message == "is not UTF-8 text")

        let huge = directory.write("huge.toml", String(repeating: "# padding\n", count: 120_000))
        #expect(ConfigurationLoader.check(file: huge).failure?.problems.first?.reason == .unreadableFile)
        #expect(ConfigurationLoader.check(file: directory.path).failure?.problems.first?.reason == .unreadableFile)
        #expect(ConfigurationLoader.check(file: directory.path + "/absent.toml").failure?.problems.first?.message == "no such file")
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

struct ConfigurationWarningTests {
    @Test func defaultsWarnOfNothing() {
        #expect(GatewayConfiguration.defaults.warnings.isEmpty)
    }

    @Test func anAPIBeyondLoopbackAndAnOpenDHTPortOutOfRangeAreWarnedAbout() throws {
        let configuration = try parsed("[api]\nlisten = \"0.0.0.0:7401\"\n[dht]\nengine = \"opendht\"")
        #expect(configuration.warnings.count == 1)
        #expect(configuration.warnings[0].contains("no authentication"))
        #expect(configuration.dht.openDHTPort == 7402)
        let high = try parsed("[dht]\nengine = \"opendht\"\nport = 65535")
        #expect(high.dht.openDHTPort == nil)
        #expect(high.warnings.count == 1 && high.warnings[0].contains("OpenDHT"))
        #expect(try parsed("[dht]\nport = 65535").warnings.isEmpty, "the native engine needs no second port")
        #expect(try parsed("[api]\nlisten = \"[::1]:7401\"").warnings.isEmpty)
        #expect(try parsed("[api]\nlisten = \"localhost:7401\"").warnings.isEmpty)
    }
}
