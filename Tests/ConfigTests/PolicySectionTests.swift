import Config
import DNSSD
import Policy
import Testing

/// The `[policy]` section: rules in order, tags, and errors with the rule's line.
struct PolicySectionTests {
    static let example = """
        [policy]
        default = "deny"

        [policy.tags]
        printing = ["_ipp._tcp", "_printer._tcp"]

        [[policy.rule]]
        action = "deny"
        direction = "export"
        type = "_ssh._tcp"
        comment = "no remote logins out of this LAN"

        [[policy.rule]]
        action = "permit"
        direction = "import"
        tag = "printing"
        island = "headquarters"

        [[policy.rule]]
        action = "permit"
        island = "1a2b3c4d5e6f7081"
        """

    @Test func rulesKeepFileOrderAndTheirLines() throws {
        let policy = try parsed(Self.example).policy
        #expect(policy.defaultAction == .deny)
        #expect(policy.tags == ["printing": [try ServiceType("_ipp._tcp"), try ServiceType("_printer._tcp")]])
        #expect(policy.rules == [
            PolicyRule(.deny, direction: .export, type: .exact(try ServiceType("_ssh._tcp")), comment: "no remote logins out of this LAN", line: 7),
            PolicyRule(.permit, direction: .import, type: .tag("printing"), island: .name("headquarters"), line: 13),
            PolicyRule(.permit, island: .id(0x1a2b_3c4d_5e6f_7081), line: 19),
        ])
    }

    @Test func parsedPolicyDecidesAndNamesTheRuleAndLine() throws {
        let policy = try parsed(Self.example).policy
        let verdict = policy.evaluate(direction: .import, type: try ServiceType("_ipp._tcp"), island: PolicyIsland(name: "HeadQuarters"))
        #expect(verdict.description == "rule 2 (line 13): permit import tag=printing island=headquarters")
        let denied = policy.evaluate(direction: .import, type: try ServiceType("_ipp._tcp"), island: PolicyIsland(name: "branch"))
        #expect(denied.description == "default: deny")
    }

    @Test func ruleWithoutActionIsRefusedAtItsHeaderLine() throws {
        let found = problems("""
            [[policy.rule]]
            action = "permit"

            [[policy.rule]]
            type = "_ssh._tcp"
            """)
        let problem = try #require(found.first)
        #expect(found.count == 1)
        #expect(problem.reason == .missingKey && problem.key == "policy.rule[2]" && problem.line == 4)
    }

    @Test func ruleValuesAreValidatedWithTheirLines() {
        let found = problems("""
            [[policy.rule]]
            action = "allow"
            direction = "inbound"
            type = "ipp"
            island = ""
            colour = "red"
            """)
        #expect(found.map(\.key) == ["policy.rule[1].colour", "policy.rule[1].action", "policy.rule[1].direction",
                                     "policy.rule[1].type", "policy.rule[1].island"])
        #expect(found.map(\.line) == [6, 2, 3, 4, 5])
        #expect(found[0].reason == .unknownKey)
        #expect(found[1].message == "\"allow\" is not one of \"permit\", \"deny\"")
    }

    @Test func typeAndTagTogetherConflict() throws {
        let problem = try #require(problems("""
            [policy.tags]
            web = ["_http._tcp"]
            [[policy.rule]]
            action = "deny"
            type = "_ipp._tcp"
            tag = "web"
            """).first)
        #expect(problem.reason == .conflict && problem.key == "policy.rule[1].tag" && problem.line == 6)
    }

    @Test func undefinedTagIsRefusedNamingTheDefinedOnes() throws {
        let problem = try #require(problems("""
            [policy.tags]
            printing = ["_ipp._tcp"]
            [[policy.rule]]
            action = "deny"
            tag = "printer"
            """).first)
        #expect(problem.key == "policy.rule[1].tag" && problem.line == 5)
        #expect(problem.message == "tag \"printer\" is not defined under [policy.tags] (defined: printing)")
    }

    @Test func tagsMustListServiceTypes() {
        let found = problems("""
            [policy.tags]
            printing = ["_ipp._tcp", "printer"]
            media = "_raop._tcp"
            """)
        #expect(found.compactMap(\.key).sorted() == ["policy.tags.media", "policy.tags.printing"])
        #expect(found.allSatisfy { $0.line == 2 || $0.line == 3 })
    }

    @Test func rulesWrittenAsAPlainTableAreRefused() throws {
        let problem = try #require(problems("""
            [policy.rule]
            action = "deny"
            """).first)
        #expect(problem.key == "policy.rule" && problem.reason == .wrongType && problem.line == 1)
    }

    @Test func rulesPickInstancesByNameHostAndAddress() throws {
        let policy = try parsed("""
            [[policy.rule]]
            action = "deny"
            direction = "import"
            type = "_airplay._tcp"
            address = "10.20.0.0/16"

            [[policy.rule]]
            action = "permit"
            name = 'Deal\\* (lab ?)'
            host = "lab-*.local"
            address = "fd00:1::/64"
            """).policy
        #expect(policy.rules == [
            PolicyRule(.deny, direction: .import, type: .exact(try ServiceType("_airplay._tcp")),
                       address: try IPPrefix(policy: "10.20.0.0/16"), line: 1),
            PolicyRule(.permit, name: try NameGlob(#"Deal\* (lab ?)"#), host: try NameGlob("lab-*.local"),
                       address: try IPPrefix(policy: "fd00:1::/64"), line: 7),
        ])
        #expect(policy.rules[1].description == #"permit both type=* island=* name="Deal\* (lab ?)" host="lab-*.local" address=fd00:1::/64"#)
    }

    /// A bad pattern or prefix is refused with its key, line and reason; the rest of the
    /// file is still read, every other problem reported beside it.
    @Test func badPatternsAndPrefixesAreRefusedWithKeyLineAndReason() throws {
        let found = problems("""
            [[policy.rule]]
            action = "deny"
            name = 'Lab\\'
            host = ""
            address = "10.1.2.7/24"

            [[policy.rule]]
            action = "deny"
            address = "fd00::/200"

            [[policy.rule]]
            action = "deny"
            name = 'x\\d'
            address = "printer"

            [[policy.rule]]
            action = "permit"
            address = 10
            """)
        #expect(found.map(\.key) == ["policy.rule[1].name", "policy.rule[1].host", "policy.rule[1].address",
                                     "policy.rule[2].address", "policy.rule[3].name", "policy.rule[3].address",
                                     "policy.rule[4].address"])
        #expect(found.map(\.line) == [3, 4, 5, 9, 13, 14, 18])
        #expect(found.map(\.reason) == [.invalidValue, .invalidValue, .invalidValue, .invalidValue, .invalidValue, .invalidValue, .wrongType])
        #expect(found[0].message.contains("ends in a lone"), "\(found[0].message)")
        #expect(found[1].message.contains("empty"), "\(found[1].message)")
        #expect(found[2].message.contains("did you mean 10.1.2.0/24?"), "\(found[2].message)")
        #expect(found[3].message.contains("0 to 128"), "\(found[3].message)")
        #expect(found[4].message.contains("escapes nothing"), "\(found[4].message)")
        #expect(found[5].message.contains("\"printer\" is not an IPv4 or IPv6 address"), "\(found[5].message)")
        #expect(found[6].message.contains("expected a string"), "\(found[6].message)")
    }

    @Test func badDefaultIsRefused() throws {
        let problem = try #require(problems("[policy]\ndefault = \"block\"").first)
        #expect(problem.key == "policy.default" && problem.line == 2)
    }
}
