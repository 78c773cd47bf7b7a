/// A cursor over one header value, with the small grammar pieces every structured header
/// shares: SWS-separated tokens, quoted strings with quoted-pairs, and `;name=value` lists.
struct HeaderValueScanner {
    let bytes: [UInt8]
    var index: Int

    init(_ text: Substring) {
        self.bytes = Array(text.utf8)
        self.index = 0
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
        self.index = 0
    }

    var isAtEnd: Bool { index >= bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while index < bytes.count, SIPBytes.isWhitespace(bytes[index]) { index += 1 }
    }

    /// Skips whitespace, then consumes `byte` if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard peek == byte else { return false }
        index += 1
        return true
    }

    mutating func token() -> String? {
        let start = index
        while index < bytes.count, SIPBytes.isToken(bytes[index]) { index += 1 }
        guard index > start else { return nil }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE; returns the unescaped text.
    mutating func quotedString() throws(SIPRejection) -> String {
        guard peek == UInt8(ascii: "\"") else { throw .quotedStringUnterminated }
        index += 1
        var text: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                guard index + 1 < bytes.count, bytes[index + 1] <= 0x7f,
                      bytes[index + 1] != SIPBytes.cr, bytes[index + 1] != SIPBytes.lf else {
                    throw .quotedStringUnterminated
                }
                text.append(bytes[index + 1])
                index += 2
            default:
                // qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
                guard byte >= 0x20 && byte != 0x7f || byte == SIPBytes.tab else { throw .displayNameInvalid }
                text.append(byte)
                index += 1
            }
        }
        throw .quotedStringUnterminated
    }

    /// generic-param list: *( SEMI token [ EQUAL ( token / host / quoted-string ) ] ), to the end.
    mutating func parameters(limits: SIPLimits) throws(SIPRejection) -> [SIPParameter] {
        var parameters: [SIPParameter] = []
        while true {
            skipWhitespace()
            if isAtEnd { return parameters }
            guard consume(UInt8(ascii: ";")) else { throw .parameterMalformed }
            skipWhitespace()
            guard let name = token() else { throw .parameterMalformed }
            var value: String?
            var quoted = false
            if consume(UInt8(ascii: "=")) {
                skipWhitespace()
                if peek == UInt8(ascii: "\"") {
                    value = try quotedString()
                    quoted = true
                } else {
                    let start = index
                    while index < bytes.count, SIPBytes.isToken(bytes[index]) || Self.hostExtra.contains(bytes[index]) {
                        index += 1
                    }
                    guard index > start else { throw .parameterMalformed }
                    value = String(decoding: bytes[start..<index], as: UTF8.self)
                }
            }
            parameters.append(SIPParameter(name: name, value: value, isQuoted: quoted))
            guard parameters.count <= limits.maximumParameters else { throw .tooManyParameters(count: parameters.count) }
        }
    }

    /// `host` values (IPv6 references, `received` addresses) add these to token characters.
    static let hostExtra: Set<UInt8> = [UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]")]

    /// Splits a list header value at commas outside quoted strings and angle brackets.
    static func splitList(_ value: String, limits: SIPLimits) throws(SIPRejection) -> [Substring] {
        var pieces: [Substring] = []
        var inQuotes = false
        var inAngles = false
        var escaped = false
        var start = value.utf8.startIndex
        var index = start
        while index < value.utf8.endIndex {
            let byte = value.utf8[index]
            if inQuotes {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inQuotes = false }
            } else if byte == UInt8(ascii: "\"") {
                inQuotes = true
            } else if byte == UInt8(ascii: "<") {
                inAngles = true
            } else if byte == UInt8(ascii: ">") {
                inAngles = false
            } else if byte == UInt8(ascii: ","), !inAngles {
                pieces.append(value[start..<index])
                start = value.utf8.index(after: index)
                guard pieces.count < limits.maximumListValues else { throw .tooManyListValues(count: pieces.count + 1) }
            }
            index = value.utf8.index(after: index)
        }
        pieces.append(value[start..<value.utf8.endIndex])
        return pieces.map { SIPBytes.trimmed($0) }
    }
}

/// A header parameter (`;tag=a6c85cf`, `;branch=z9hG4bK776`, `;q=0.7`, `;lr`).
/// Names compare ignoring case and are stored lower-cased; values are kept as written.
public struct SIPParameter: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String?
    /// The value was a quoted string (and prints as one).
    public var isQuoted: Bool

    public init(name: String, value: String? = nil, isQuoted: Bool = false) {
        self.name = SIPBytes.lowercased(name)
        self.value = value
        self.isQuoted = isQuoted
    }

    public var description: String {
        guard let value else { return name }
        guard isQuoted else { return "\(name)=\(value)" }
        return "\(name)=" + quote(value)
    }
}

/// Prints text as a quoted-string, escaping `"` and `\`.
func quote(_ text: String) -> String {
    var output = "\""
    for character in text.unicodeScalars {
        if character == "\"" || character == "\\" { output += "\\" }
        output.unicodeScalars.append(character)
    }
    return output + "\""
}

extension Array where Element == SIPParameter {
    /// The value of the first parameter named `name`; `.some(nil)` for a valueless one.
    public func value(of name: String) -> String?? {
        let wanted = SIPBytes.lowercased(name)
        return first { $0.name == wanted }.map(\.value)
    }
}
