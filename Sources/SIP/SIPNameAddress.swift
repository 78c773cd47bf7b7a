/// A `name-addr` or `addr-spec` with header parameters: the value of From, To, Contact
/// (RFC 3261 §20.10, §20.20, §20.39, grammar §25.1).
///
/// `"Alice" <sip:alice@example.org>;tag=1928301774` has display name `Alice`, the URI, and
/// parameter `tag`. In the bare form (`sip:alice@example.org;tag=1`) every `;` starts a header
/// parameter, and the URI may not hold `,`, `?` or `;` (§20.10) — `regbadct` of RFC 4475 breaks
/// that rule.
public struct SIPNameAddress: Hashable, Sendable, CustomStringConvertible {
    public var displayName: String?
    public var uri: SIPAnyURI
    public var parameters: [SIPParameter]
    /// The value exactly as received (after unfolding); empty for values built in code.
    public var raw: String

    public init(displayName: String? = nil, uri: SIPAnyURI, parameters: [SIPParameter] = []) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
        self.raw = ""
    }

    /// The `tag` parameter (From, To).
    public var tag: String? { parameters.value(of: "tag") ?? nil }

    /// Always prints the `<...>` form, which is valid for every URI.
    public var description: String {
        var text = ""
        if let displayName { text += quote(displayName) + " " }
        text += "<\(uri)>"
        for parameter in parameters { text += ";" + parameter.description }
        return text
    }

    public init(parsing value: Substring, limits: SIPLimits = .default) throws(SIPRejection) {
        var scanner = HeaderValueScanner(value)
        scanner.skipWhitespace()
        var displayName: String?
        let uriBytes: ArraySlice<UInt8>
        if scanner.peek == UInt8(ascii: "\"") {
            displayName = try scanner.quotedString()
            guard scanner.consume(UInt8(ascii: "<")) else { throw .displayNameInvalid }
            uriBytes = try Self.bracketedURI(&scanner)
        } else if let open = Self.firstAngle(scanner.bytes) {
            let words = SIPBytes.trimmed(scanner.bytes[scanner.index..<open])
            if !words.isEmpty {
                // display-name = *(token LWS): tokens separated by whitespace.
                let parts = words.split(whereSeparator: SIPBytes.isWhitespace)
                guard parts.allSatisfy({ $0.allSatisfy(SIPBytes.isToken) }) else { throw .displayNameInvalid }
                displayName = parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            }
            scanner.index = open + 1
            uriBytes = try Self.bracketedURI(&scanner)
        } else {
            // addr-spec without brackets: the URI ends at the first ';' or whitespace.
            let start = scanner.index
            while let byte = scanner.peek, byte != UInt8(ascii: ";"), !SIPBytes.isWhitespace(byte) { scanner.index += 1 }
            uriBytes = scanner.bytes[start..<scanner.index]
            guard !uriBytes.contains(UInt8(ascii: "?")), !uriBytes.contains(UInt8(ascii: ",")) else {
                throw .uriHeaderInvalid
            }
        }
        let uri = try SIPAnyURI.parse(uriBytes, limits: limits)
        let parameters = try scanner.parameters(limits: limits)
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
        self.raw = String(value)
    }

    /// Reads `addr-spec ">"` right after `<`; LAQUOT/RAQUOT allow no whitespace inside (§25.1).
    private static func bracketedURI(_ scanner: inout HeaderValueScanner) throws(SIPRejection) -> ArraySlice<UInt8> {
        let start = scanner.index
        guard let close = scanner.bytes[start...].firstIndex(of: UInt8(ascii: ">")) else { throw .displayNameInvalid }
        scanner.index = close + 1
        let uri = scanner.bytes[start..<close]
        guard let first = uri.first, let last = uri.last, !SIPBytes.isWhitespace(first), !SIPBytes.isWhitespace(last)
        else { throw .uriHostInvalid }
        return uri
    }

    /// The first `<` outside a quoted string.
    private static func firstAngle(_ bytes: [UInt8]) -> Int? {
        var inQuotes = false
        var escaped = false
        for (index, byte) in bytes.enumerated() {
            if inQuotes {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inQuotes = false }
            } else if byte == UInt8(ascii: "\"") {
                inQuotes = true
            } else if byte == UInt8(ascii: "<") {
                return index
            }
        }
        return nil
    }
}
