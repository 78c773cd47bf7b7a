@testable import Config
import Testing

/// The key-to-line locator that error messages rely on (TOMLKit has no value positions).
struct KeyLinesTests {
    @Test func findsTopLevelKeysTablesAndKeysInTables() {
        let lines = KeyLines("""
            # comment
            network = "z2z"

            [dht]
            port = 7400
              engine = "native"   # indented
            """)
        #expect(lines.line(of: "network") == 2)
        #expect(lines.line(of: "dht") == 4)
        #expect(lines.line(of: "dht.port") == 5)
        #expect(lines.line(of: "dht.engine") == 6)
    }

    @Test func countsArrayOfTablesElementsFromOne() {
        let lines = KeyLines("""
            [policy]
            default = "deny"
            [[policy.rule]]
            action = "permit"

            [[policy.rule]]
            type = "_ssh._tcp"
            action = "deny"
            """)
        #expect(lines.line(of: ConfigKeyPath([.key("policy"), .key("rule"), .index(1)])) == 3)
        #expect(lines.line(of: ConfigKeyPath([.key("policy"), .key("rule"), .index(1), .key("action")])) == 4)
        #expect(lines.line(of: ConfigKeyPath([.key("policy"), .key("rule"), .index(2)])) == 6)
        #expect(lines.line(of: ConfigKeyPath([.key("policy"), .key("rule"), .index(2), .key("action")])) == 8)
        // A key that is absent points at its table's header.
        #expect(lines.line(of: ConfigKeyPath([.key("policy"), .key("rule"), .index(2), .key("island")])) == 6)
    }

    @Test func subTableOfAnArrayElementBelongsToTheLatestElement() {
        let lines = KeyLines("""
            [[a]]
            x = 1
            [[a]]
            [a.b]
            y = 2
            """)
        #expect(lines.line(of: ConfigKeyPath([.key("a"), .index(2), .key("b"), .key("y")])) == 5)
    }

    @Test func skipsMultiLineStringsAndArraysWithoutMistakingTheirContentForKeys() {
        let lines = KeyLines(#"""
            text = """
            port = 1
            [dht]
            """
            literal = '''
            fake = 2
            '''
            list = [
              "a", # comment ] with bracket
              "b]",
              { inline = "x" },
            ]
            after = true
            escaped = "quote \" and [bracket"
            last = 1
            """#)
        #expect(lines.line(of: "text") == 1)
        #expect(lines.line(of: "literal") == 5)
        #expect(lines.line(of: "list") == 8)
        #expect(lines.line(of: "after") == 13)
        #expect(lines.line(of: "escaped") == 14)
        #expect(lines.line(of: "last") == 15)
        #expect(lines.line(of: "port") == nil)
        #expect(lines.line(of: "fake") == nil)
        #expect(lines.line(of: "dht") == nil)
    }

    @Test func readsDottedAndQuotedKeys() {
        let lines = KeyLines("""
            dht.port = 7400
            "quoted key" = 1
            [ island ]
            'literal.key' = 2
            site . "a b" = 3
            """)
        #expect(lines.line(of: "dht.port") == 1)
        #expect(lines.line(of: "dht") == 1)
        #expect(lines.line(of: ConfigKeyPath([.key("quoted key")])) == 2)
        #expect(lines.line(of: ConfigKeyPath([.key("island"), .key("literal.key")])) == 4)
        #expect(lines.line(of: ConfigKeyPath([.key("island"), .key("site"), .key("a b")])) == 5)
    }

    @Test func keysInsideInlineTablesAnswerWithTheEnclosingKey() {
        let lines = KeyLines("""

            api = { listen = "x", extra = 1 }
            """)
        #expect(lines.line(of: "api.extra") == 2)
    }

    @Test func windowsLineEndingsCountLinesTheSame() {
        let lines = KeyLines("a = 1\r\n\r\n[dht]\r\nport = 2\r\n")
        #expect(lines.line(of: "dht.port") == 4)
    }

    @Test func keyPathsPrintAsTOMLWithRulesCountedFromOne() {
        #expect(ConfigKeyPath([.key("policy"), .key("rule"), .index(2), .key("action")]).description == "policy.rule[2].action")
        #expect(ConfigKeyPath([.key("policy"), .key("tags"), .key("my tag")]).description == "policy.tags.\"my tag\"")
    }
}
