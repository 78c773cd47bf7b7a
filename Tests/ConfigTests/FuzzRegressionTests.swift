import Config
import Testing

/// Inputs found by `Deploy/fuzz config` (RELIABILITY.md, "Fuzzing"), each a named test.
struct FuzzRegressionTests {
    /// toml++ (under TOMLKit) asserted, aborting z2zd even in release builds, on a table
    /// header whose key starts with a character that cannot start a key. The first input is
    /// the fuzzer's (crash-75f6c966…); the others are the same fault reduced.
    @Test(arguments: [
        "Snetwork = 5\n[dht]\nport = 70000\nbootstrap = \"x\"\n[policy]\ndefault = \"maybe\"\n[[=olicy.rqle]]\ntag = \"none\"\n",
        "[=x]\n", "[ =x]\n", "[[ =x]]\n", "[.x]\n", "[#x]\n", "[\n", "[", "network = \"z2z\"\n  [\t=x]\n",
        // The second input (crash-91d946cb…): a third bracket.
        "log_level = \"debug\"\n[api]\nlisten = \"[::1]:1407\"\n[[[island]\nname = \"officieo\"\n", "[[[x]]]\n", "[[ [x]]]\n",
        // The fourth input (crash-69e0864b…): the header right after a byte order mark.
        "\u{FEFF}[\n[b\n\ntnn#]\"\nb\n", "\u{FEFF}[=x]\n",
    ])
    func aTableHeaderWithoutAKeyIsASyntaxProblemNotACrash(text: String) throws {
        let found = problems(text)
        #expect(found.count == 1)
        #expect(found.first?.reason == .syntax)
        #expect(found.first?.line != nil)
    }

    /// toml++ asserted on a `}` where an array expects a value (third input, crash-dbc32753…).
    @Test(arguments: [
        "[dht]\nport = 74.00\nbootstrap = [}192.0.2.10:74z00\", \"gw.example.org\"]\n",
        "a = [}]\n", "a = [ } ]\n", "a = [1, }]\n", "a = [\n}]\n", "a = [ # c\n }]\n", "a = [[}]]\n", "a = {b=[}]}\n",
    ])
    func aBraceWhereAnArrayExpectsAValueIsASyntaxProblemNotACrash(text: String) {
        let found = problems(text)
        #expect(found.count == 1)
        #expect(found.first?.reason == .syntax)
    }

    /// toml++ asserted in `parse_time` (a value typed as a date-time whose date a `T` and a
    /// non-digit follow: the fifth input, Fuzz/config/findings/…) and in its type scan (a
    /// date, a blank, one digit, then the value's end: the same input reduced further).
    @Test(arguments: [
        "npork = 1958-05-27Tpoltagic07:3~2:00Zvelnett\n  owr  [\n",
        "a = 1958-05-27Tpoltagic07:3~2:00Zvelnett\n", "a = 1958-05-27tx:00\n", "a = 19_58-05-27Tx:00\n",
        "a = 1958-05-27 1\n", "a = 1958-05-27 1,\n", "a = [1958-05-27 1]\n", "a = [1, 1958-05-27 1 ]\n",
        "a = [\n  1958-05-27T:00,\n]\n", "a = { b = 1958-05-27 1 }\n", "a = 1958-05-27 1#c\n",
        // The sixth input (crash-8f78fa80…): toml++'s scan ignores most letters.
        "a0= 1h58-05-27 0\n", "a = 1958-05-2é 0\n", "a = 1_958-05-27 0\n",
        // The seventh (crash-e3bcc78d…): a vertical tab ends the value too; so do non-ASCII blanks.
        "za = 1958-05-27 1\u{0B}", "a = 1958-05-27 1\u{0C}\n", "a = 1958-05-27 1\u{A0}\n", "a = 1958-05-27 1\u{2028}\n",
    ])
    func aDateWithoutItsTimeIsASyntaxProblemNotACrash(text: String) {
        let found = problems(text)
        #expect(found.count == 1)
        #expect(found.first?.reason == .syntax)
    }

    @Test func theHeaderProblemNamesItsLineAndColumn() throws {
        let found = problems("network = \"z2z\"\n\n  [=x]\n")
        #expect(found.first?.line == 3)
        #expect(found.first?.column == 3)
    }

    /// Valid TOML that only looks like such a header is left to the parser.
    @Test(arguments: [
        "[island]\nname = \"[=x]\"\n",
        "[[policy.rule]]\naction = \"permit\"\ncomment = '''\n[=x]\n'''\n",
        "[[policy.rule]]\naction = \"permit\"\ncomment = \"\"\"\n[=x]\n\"\"\"\n",
        "# [=x]\n[island]\nname = \"a\"\n",
        "[ \"island\" ]\nname = \"a\"\n",
        "[policy.tags]\nprinting = [\n  \"_ipp._tcp\",\n]\n",
        "[policy.tags]\nprinting = [ \"_ipp._tcp\", # a comment }\n  \"_ipps._tcp\" ]\n",
        "[dht]\nbootstrap = []\n",
    ])
    func validTextIsNotRefused(text: String) throws {
        #expect(problems(text).isEmpty, "\(problems(text))")
    }

    /// Dates and date-times in every valid shape, and keys and strings that look like them,
    /// reach the parser: z2z has no date setting, so the only problem is the unknown key.
    @Test(arguments: [
        "a = 1958-05-27\n", "a = 1958-05-27 # c\n", "a = 1958-05-27T07:32:00Z\n", "a = 1958-05-27 07:32:00\n",
        "a = 1958-05-27t07:32:00.5+01:00\n", "a = [1958-05-27, 1958-05-27 07:32:00]\n", "1958-05-27T = 1\n",
        "1958-05-27 = 1\n", "a = \"1958-05-27Tx\"\n", "a = 1958-05-27T07:32:00Z # 1958-05-27 1\n",
    ])
    func validDatesAreNotRefused(text: String) {
        let found = problems(text)
        #expect(found.count == 1)
        #expect(found.first.map { $0.reason != .syntax } ?? false, "\(found)")
    }

    /// Headers toml++ refuses by itself reach it (and come back as its syntax problems).
    @Test(arguments: ["[]\n", "[[ ]]\n", "[ [x]]\n", "[ ]\n"])
    func headersTheParserRefusesItselfAreLeftToIt(text: String) {
        let found = problems(text)
        #expect(found.first?.reason == .syntax)
        #expect(found.first?.message.contains("a table header must start with a key") == false)
    }

    /// An array of arrays on lines of their own is a value, not a header: the parser, not
    /// the preflight, says what is wrong with it (here: an unknown key).
    @Test func anArrayOfArraysOnItsOwnLinesIsNotReadAsAHeader() {
        let found = problems("[dht]\nbootstrap = [\n  [ [1], [2] ],\n]\n")
        #expect(found.first?.reason != .syntax)
    }
}
