/// Refuses, before TOMLKit sees it, a TOML text that would crash TOMLKit's parser.
///
/// toml++ 3.x (under TOMLKit) asserts, and so aborts the process in release builds too, on
/// a table header whose first key does not start like a key: `[=x]`, `[ .x]`, `[[#x]]`,
/// `[[[x]]]` or a lone `[`; and on a `}` where an array expects a value (`a = [}]`,
/// `a = [1, }`). Found by `Deploy/fuzz config`; RELIABILITY.md, "Fuzzing". z2zd parses
/// configuration at start, on SIGHUP and for `z2z config check` through the API, so such a
/// text must come back as a syntax problem, not kill the daemon. Such headers are invalid
/// TOML anyway; a valid text is never refused here.
///
/// A small lexer: it follows strings (basic, literal, both multi-line), comments and the
/// brackets of values (arrays, inline tables) so that only a `[` that opens a line outside
/// any value is read as a table header.
enum TOMLPreflight {
    /// What would crash the parser.
    enum Fault: Equatable {
        case headerWithoutKey
        case braceForArrayValue

        var message: String {
            switch self {
            case .headerWithoutKey: "TOML syntax: a table header must start with a key (a letter, digit, '_', '-' or a quote)"
            case .braceForArrayValue: "TOML syntax: '}' where an array expects a value or ']'"
            }
        }
    }

    /// The first such fault and where it is (1-based line and column), or nil.
    static func fault(in text: String) -> (fault: Fault, line: Int, column: Int)? {
        let bytes = Array(text.utf8)
        // toml++ skips a UTF-8 byte order mark, so a header right after one opens a line.
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1, lineStart = i
        var open: [UInt8] = []  // the `[` and `{` of values, innermost last
        var expectValue = false  // just after an array's `[` or `,`
        var atLineStart = true  // only whitespace so far on this line
        func at(_ j: Int) -> UInt8? { j < bytes.count ? bytes[j] : nil }
        func startsWith(_ s: String, _ j: Int) -> Bool {
            let p = Array(s.utf8)
            return j + p.count <= bytes.count && Array(bytes[j..<j + p.count]) == p
        }
        func newline() { line += 1; lineStart = i + 1; atLineStart = true }
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\n"):
                newline()
                i += 1
                continue
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                i += 1
                continue
            case UInt8(ascii: "#"):
                while i < bytes.count, bytes[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                atLineStart = false
                expectValue = false
                let triple = c == UInt8(ascii: "\"") ? "\"\"\"" : "'''"
                if startsWith(triple, i) {
                    i += 3
                    while i < bytes.count, !startsWith(triple, i) {
                        if bytes[i] == UInt8(ascii: "\\"), c == UInt8(ascii: "\"") { i += 1 }
                        if i < bytes.count, bytes[i] == UInt8(ascii: "\n") { newline(); atLineStart = false }
                        i += 1
                    }
                    i += 3
                    // A closing delimiter may be followed by up to two more quotes.
                    while i < bytes.count, bytes[i] == c { i += 1 }
                } else {
                    i += 1
                    while i < bytes.count, bytes[i] != c, bytes[i] != UInt8(ascii: "\n") {
                        if bytes[i] == UInt8(ascii: "\\"), c == UInt8(ascii: "\"") { i += 1 }
                        i += 1
                    }
                    if i < bytes.count, bytes[i] == c { i += 1 }
                }
                continue
            case UInt8(ascii: "["):
                if open.isEmpty, atLineStart {
                    // A table header: `[` or `[[`, blanks, then a key must start.
                    var j = i + 1
                    let double = at(j) == UInt8(ascii: "[")
                    if double { j += 1 }
                    while let b = at(j), b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { j += 1 }
                    // toml++ reports a blank key (`[]`, `[[ ]]`) and `[ [x]]` itself; a third
                    // bracket (`[[[x]]]`, `[[ [x]]]`) it asserts on.
                    let first = at(j)
                    let fine = first.map { isKeyStart($0) || $0 == UInt8(ascii: "]") || (!double && $0 == UInt8(ascii: "[")) } ?? false
                    if !fine { return (.headerWithoutKey, line, i - lineStart + 1) }
                    // The rest of the header is toml++'s to judge; go on after the line's end.
                    while i < bytes.count, bytes[i] != UInt8(ascii: "\n") {
                        if bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") { break }
                        i += 1
                    }
                    atLineStart = false
                    continue
                }
                open.append(c)
                expectValue = true
                atLineStart = false
                i += 1
                continue
            case UInt8(ascii: "{"):
                open.append(c)
                expectValue = false
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if c == UInt8(ascii: "}"), open.last == UInt8(ascii: "["), expectValue { return (.braceForArrayValue, line, i - lineStart + 1) }
                if !open.isEmpty { open.removeLast() }
                expectValue = false
            case UInt8(ascii: ","):
                expectValue = open.last == UInt8(ascii: "[")
                atLineStart = false
                i += 1
                continue
            default:
                expectValue = false
            }
            atLineStart = false
            i += 1
        }
        return nil
    }

    /// What may start a key: a bare-key character or a quote.
    static func isKeyStart(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""), UInt8(ascii: "'"): true
        default: false
        }
    }
}
