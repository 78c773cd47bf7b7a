/// Byte classes of the RFC 3261 §25.1 grammar, as 256-entry tables.
///
/// Tables rather than `switch`es keep every check one load, and the grammar's names stay
/// visible: `SIPBytes.token`, `SIPBytes.user`, ... are the ABNF rules of the same name.
enum SIPBytes {
    static let cr: UInt8 = 0x0d
    static let lf: UInt8 = 0x0a
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09

    private static func table(_ characters: String, alphanumeric: Bool = true) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        if alphanumeric {
            for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] = true }
            for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] = true }
            for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] = true }
        }
        for byte in characters.utf8 { table[Int(byte)] = true }
        return table
    }

    /// `token` (methods, header names, parameter names, transports).
    static let token = table("-.!%*_+`'~")
    /// `unreserved` = alphanum / mark.
    static let unreserved = table("-_.!~*'()")
    /// `user` = 1*( unreserved / escaped / user-unreserved ); '%' is checked as an escape.
    static let user = table("-_.!~*'()&=+$,;?/")
    /// `password` = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ).
    static let password = table("-_.!~*'()&=+$,")
    /// `paramchar` = param-unreserved / unreserved / escaped.
    static let paramchar = table("[]/:&+$-_.!~*'()")
    /// `hname` / `hvalue` = *( hnv-unreserved / unreserved / escaped ).
    static let hnv = table("[]/?:+$-_.!~*'()")
    /// `word` (Call-ID).
    static let word = table("-.!%*_+`'~()<>:\\\"/[]?{}")
    /// Characters of a tel URI number (digits, visual separators, hex for local numbers).
    static let telNumber = table("+-.()*#", alphanumeric: true)
    /// `scheme` = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
    static let scheme = table("+-.")

    @inline(__always) static func isToken(_ byte: UInt8) -> Bool { token[Int(byte)] }
    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    @inline(__always) static func isAlpha(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
    }
    @inline(__always) static func isAlphanumeric(_ byte: UInt8) -> Bool { isAlpha(byte) || isDigit(byte) }
    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }
    @inline(__always) static func isHex(_ byte: UInt8) -> Bool { hexValue(byte) != nil }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    static func lowercased(_ byte: UInt8) -> UInt8 { (byte >= 0x41 && byte <= 0x5a) ? byte + 0x20 : byte }

    /// ASCII-only lower-casing: SIP compares tokens, schemes and host names ignoring ASCII case.
    static func lowercased(_ text: some StringProtocol) -> String {
        String(decoding: text.utf8.map { lowercased($0) }, as: UTF8.self)
    }

    static func lowercased(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: bytes.map { lowercased($0) }, as: UTF8.self)
    }

    static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Checks that every byte is in `allowed` or starts a valid `%XX` escape.
    static func isEscaped(_ bytes: ArraySlice<UInt8>, allowed: [Bool]) -> Bool {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else { return false }
                index += 3
            } else {
                guard allowed[Int(byte)] else { return false }
                index += 1
            }
        }
        return true
    }

    /// Decodes `%XX` escapes; nil when an escape is malformed.
    static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex,
                      let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { return nil }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    /// Escapes every byte outside `allowed` as `%XX` (upper-case hex, RFC 3986 §2.1).
    static func percentEncoded(_ bytes: some Sequence<UInt8>, allowed: [Bool]) -> String {
        var output: [UInt8] = []
        for byte in bytes {
            if allowed[Int(byte)] && byte != UInt8(ascii: "%") {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Drops leading and trailing SP/HTAB.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isWhitespace(bytes[start]) { start += 1 }
        while end > start, isWhitespace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    static func trimmed(_ text: Substring) -> Substring {
        var result = text
        while let first = result.utf8.first, isWhitespace(first) { result = result.dropFirst() }
        while let last = result.utf8.last, isWhitespace(last) { result = result.dropLast() }
        return result
    }

    /// Parses 1*DIGIT into a value no larger than `maximum`; nil on anything else.
    static func decimal(_ bytes: some Collection<UInt8>, maximum: UInt64) -> UInt64? {
        guard !bytes.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard isDigit(byte) else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflow1, !overflow2, sum <= maximum else { return nil }
            value = sum
        }
        return value
    }
}
