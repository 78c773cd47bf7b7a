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

    @Test func badDefaultIsRefused() throws {
        let problem = try #require(problems("[policy]\ndefault = \"block\"").first)
        #expect(problem.key == "policy.default" && problem.line == 2)
    }
}
