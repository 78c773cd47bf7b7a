/// Refuses, before TOMLKit sees it, a TOML text that would crash TOMLKit's parser.
///
/// toml++ 3.x (under TOMLKit) asserts, and so aborts the process in release builds too, on
/// a table header whose first key does not start like a key: `[=x]`, `[ .x]`, `[[#x]]`,
/// `[[[x]]]` or a lone `[`; on a `}` where an array expects a value (`a = [}]`,
/// `a = [1, }`); and on a value that starts like a date-time but has no time after its
/// date: `a = 1958-05-27Tx:00Z` (a non-digit after the `T`, once the value holds a `:`) or
/// `a = 1958-05-27 1` (one digit after a blank, then the value ends; `a = 1h58-05-27 0` too). Found by `Deploy/fuzz config`; RELIABILITY.md, "Fuzzing". z2zd parses
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
        case dateWithoutTime

        var message: String {
            switch self {
            case .headerWithoutKey: "TOML syntax: a table header must start with a key (a letter, digit, '_', '-' or a quote)"
            case .braceForArrayValue: "TOML syntax: '}' where an array expects a value or ']'"
            case .dateWithoutTime: "TOML syntax: a date-time needs a time (HH:MM) after its date"
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
        var afterEquals = false  // just after a key's `=`: a value starts at the next non-blank
        var atLineStart = true  // only whitespace so far on this line
        func at(_ j: Int) -> UInt8? { j < bytes.count ? bytes[j] : nil }
        func startsWith(_ s: String, _ j: Int) -> Bool {
            let p = Array(s.utf8)
            return j + p.count <= bytes.count && Array(bytes[j..<j + p.count]) == p
        }
        func newline() { line += 1; lineStart = i + 1; atLineStart = true }
        while i < bytes.count {
            let c = bytes[i]
            if c != UInt8(ascii: " "), c != UInt8(ascii: "\t"), c != UInt8(ascii: "\r") {
                if afterEquals || expectValue, isDigit(c), dateWithoutTime(bytes, from: i) {
                    return (.dateWithoutTime, line, i - lineStart + 1)
                }
                afterEquals = false
            }
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
            case UInt8(ascii: "="):
                afterEquals = true
                atLineStart = false
                i += 1
                continue
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

    /// Whether the value at `start` is a date followed by a separator without a time, in
    /// either shape toml++ asserts on:
    /// - `YYYY-MM-DD` (digits only) then `T`/`t` and a non-digit: toml++ types a value with a
    ///   `t`, a `:` and a `-` as a date-time and asserts a digit after the `T`.
    /// - ten characters with `-` at the fifth and eighth, starting with a digit, then a blank,
    ///   one digit and a value terminator: toml++'s type scan, looking for a blank-separated
    ///   date-time, asserts on the terminator (refused here: any non-digit). It counts Unicode scalars without `_` and
    ///   ignores most letters (`1h58-05-27 0` asserts too), so this counts the same way.
    /// Valid TOML never does either (a date is digits, a time two digits, a colon, two
    /// digits), so refusing them loses nothing.
    static func dateWithoutTime(_ bytes: [UInt8], from start: Int) -> Bool {
        var end = start
        while end < bytes.count, !isValueTerminator(bytes[end]) { end += 1 }
        let token = String(decoding: bytes[start..<end], as: UTF8.self).unicodeScalars.filter { $0 != "_" }.map { $0 }
        func at(_ j: Int) -> UInt8? { j < bytes.count ? bytes[j] : nil }
        func scalarIsDigit(_ s: Unicode.Scalar) -> Bool { s.isASCII && isDigit(UInt8(s.value)) }
        // A blank-separated time: the token is date-shaped, and one digit follows the blank.
        if token.count == 10, scalarIsDigit(token[0]), token[4] == "-", token[7] == "-",
           at(end) == UInt8(ascii: " "), let digit = at(end + 1), isDigit(digit) {
            // toml++ asserts when a terminator follows the digit, and its terminators include
            // vertical tabs and non-ASCII blanks; any non-digit is refused here (an hour has
            // two digits).
            return !(at(end + 2).map(isDigit) ?? false)
        }
        // A `T`-separated time: a date of digits, then `T` and no digit.
        let date = bytes[start..<end].filter { $0 != UInt8(ascii: "_") }
        guard date.count >= 11 else { return false }
        let head = Array(date.prefix(11))
        let digitsAt = [0, 1, 2, 3, 5, 6, 8, 9]
        guard digitsAt.allSatisfy({ isDigit(head[$0]) }), head[4] == UInt8(ascii: "-"), head[7] == UInt8(ascii: "-"),
              head[10] == UInt8(ascii: "T") || head[10] == UInt8(ascii: "t")
        else { return false }
        return !(date.dropFirst(11).first.map(isDigit) ?? false)
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    /// toml++'s ASCII value terminators: blanks, line feed to carriage return (vertical tab
    /// and form feed included), `]`, `}`, `,`, `#`.
    static func isValueTerminator(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), 0x0A...0x0D,
             UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: "#"): true
        default: false
        }
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
