/// The line each key of a TOML text is on, for error messages: TOMLKit gives source positions
/// for syntax errors only, not for the values it parsed.
///
/// A small scanner over text that toml++ has already accepted, so it need not diagnose
/// anything; it follows table headers (`[a.b]`, `[[a.b]]`, counting array elements from 1),
/// dotted and quoted keys, and skips values (strings of all four kinds, multi-line arrays,
/// inline tables, comments). Keys inside inline tables are not recorded: `line(of:)` answers
/// with the nearest recorded enclosing key.
struct KeyLines: Sendable {
    private var lines: [ConfigKeyPath: Int] = [:]

    init(_ text: String) {
        var scanner = Scanner(bytes: Array(text.utf8))
        var table = ConfigKeyPath([])
        var arrayCounts: [ConfigKeyPath: Int] = [:]
        while let line = scanner.skipToStatement() {
            if scanner.peek == UInt8(ascii: "[") {
                let isArray = scanner.peek(1) == UInt8(ascii: "[")
                scanner.advance(isArray ? 2 : 1)
                let keys = scanner.key()
                scanner.skipLine()
                // Parents that are arrays of tables mean their latest element.
                var path = ConfigKeyPath([])
                for (position, key) in keys.enumerated() {
                    path = path.appending(key)
                    if position < keys.count - 1, let count = arrayCounts[path] { path = path.appending(index: count) }
                }
                if isArray {
                    let count = arrayCounts[path, default: 0] + 1
                    arrayCounts[path] = count
                    path = path.appending(index: count)
                }
                table = path
                if lines[path] == nil { lines[path] = line }
            } else {
                let keys = scanner.key()
                var path = table
                for key in keys {
                    path = path.appending(key)
                    // `dht.port = 1` also places the implicit table `dht`.
                    if lines[path] == nil { lines[path] = line }
                }
                lines[path] = line
                scanner.skipValue()
            }
        }
    }

    /// The line of `path`, or of its nearest enclosing key or table that has one.
    func line(of path: ConfigKeyPath) -> Int? {
        for prefix in path.prefixes { if let line = lines[prefix] { return line } }
        return nil
    }
}

/// Byte-level reading of TOML text, just enough for `KeyLines`.
private struct Scanner {
    let bytes: [UInt8]
    var index = 0
    var line = 1

    init(bytes: [UInt8]) { self.bytes = bytes }

    var peek: UInt8? { peek(0) }
    func peek(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }
    mutating func advance(_ count: Int = 1) { index = min(index + count, bytes.count) }

    /// Skips blank lines, whitespace and comments; returns the line of the next statement, nil at the end.
    mutating func skipToStatement() -> Int? {
        while let byte = peek {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): advance()
            case UInt8(ascii: "\n"): line += 1; advance()
            case UInt8(ascii: "#"): skipComment()
            default: return line
            }
        }
        return nil
    }

    mutating func skipComment() {
        while let byte = peek, byte != UInt8(ascii: "\n") { advance() }
    }

    mutating func skipLine() {
        while let byte = peek, byte != UInt8(ascii: "\n") { advance() }
    }

    mutating func skipSpaces() {
        while let byte = peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { advance() }
    }

    /// A dotted key up to `=` or `]`, each part bare, "basic" or 'literal'.
    mutating func key() -> [String] {
        var keys: [String] = []
        while true {
            skipSpaces()
            guard let byte = peek else { return keys }
            switch byte {
            case UInt8(ascii: "\""):
                advance()
                keys.append(quoted(escapes: true))
            case UInt8(ascii: "'"):
                advance()
                keys.append(quoted(escapes: false))
            default:
                let start = index
                while let byte = peek, ConfigKeyPath.isBareKeyByte(byte) { advance() }
                keys.append(String(decoding: bytes[start..<index], as: UTF8.self))
            }
            skipSpaces()
            guard peek == UInt8(ascii: ".") else { break }
            advance()
        }
        if peek == UInt8(ascii: "=") { advance() }
        return keys
    }

    /// The rest of a one-line quoted string, after its opening quote. Escapes are kept
    /// except `\"` and `\\`: enough to name a key.
    mutating func quoted(escapes: Bool) -> String {
        let quote = escapes ? UInt8(ascii: "\"") : UInt8(ascii: "'")
        var out: [UInt8] = []
        while let byte = peek, byte != quote, byte != UInt8(ascii: "\n") {
            if escapes, byte == UInt8(ascii: "\\"), let next = peek(1), next == quote || next == UInt8(ascii: "\\") {
                out.append(next)
                advance(2)
            } else {
                out.append(byte)
                advance()
            }
        }
        advance()
        return String(decoding: out, as: UTF8.self)
    }

    /// Skips a value to the end of its statement, counting the lines it spans.
    mutating func skipValue() {
        var depth = 0
        while let byte = peek {
            switch byte {
            case UInt8(ascii: "\n"):
                line += 1
                advance()
                if depth == 0 { return }
            case UInt8(ascii: "#"):
                skipComment()
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                advance()
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                advance()
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                skipString(quote: byte)
            default:
                advance()
            }
        }
    }

    /// Skips a string of any of the four kinds, starting at its opening quote.
    mutating func skipString(quote: UInt8) {
        let escapes = quote == UInt8(ascii: "\"")
        let multiline = peek(1) == quote && peek(2) == quote
        advance(multiline ? 3 : 1)
        while let byte = peek {
            if escapes, byte == UInt8(ascii: "\\") {
                if peek(1) == UInt8(ascii: "\n") { line += 1 }
                advance(2)
                continue
            }
            if byte == UInt8(ascii: "\n") {
                if !multiline { return }
                line += 1
            }
            if byte == quote {
                if !multiline { advance(); return }
                if peek(1) == quote, peek(2) == quote {
                    // A closing delimiter may be followed by up to two more quotes that belong to the string.
                    advance(3)
                    while peek == quote { advance() }
                    return
                }
            }
            advance()
        }
    }
}
