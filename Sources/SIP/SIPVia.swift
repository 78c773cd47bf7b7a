/// One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...;received=...` (RFC 3261 §20.42).
///
/// Whitespace is allowed around `/` and `:` (SLASH and COLON are SWS-padded in §25.1), which
/// RFC 4475 `wsinv` exercises. The transport is any token (`transports`: `UNKNOWN` is valid).
public struct SIPVia: Hashable, Sendable {
    public var protocolName: String
    public var protocolVersion: String
    /// Upper-cased: `UDP`, `TCP`, `TLS`, `SCTP`, or an extension.
    public var transport: String
    public var host: SIPHost
    public var port: UInt16?
    public var parameters: [SIPParameter]
    /// The value exactly as received, copied into responses (RFC 3261 §8.2.6.2).
    public var raw: String

    public var branch: String? { parameters.value(of: "branch") ?? nil }

    public init(parsing value: Substring, limits: SIPLimits = .default) throws(SIPRejection) {
        var scanner = HeaderValueScanner(value)
        scanner.skipWhitespace()
        guard let name = scanner.token(), scanner.consume(UInt8(ascii: "/")) else { throw .viaMalformed }
        scanner.skipWhitespace()
        guard let version = scanner.token(), scanner.consume(UInt8(ascii: "/")) else { throw .viaMalformed }
        scanner.skipWhitespace()
        guard let transport = scanner.token() else { throw .viaMalformed }
        // LWS before sent-by is required.
        guard let gap = scanner.peek, SIPBytes.isWhitespace(gap) else { throw .viaMalformed }
        scanner.skipWhitespace()
        let hostStart = scanner.index
        if scanner.peek == UInt8(ascii: "[") {
            while let byte = scanner.peek, byte != UInt8(ascii: "]") { scanner.index += 1 }
            scanner.index += 1
        } else {
            while let byte = scanner.peek, SIPBytes.isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") {
                scanner.index += 1
            }
        }
        guard scanner.index <= scanner.bytes.count else { throw .viaMalformed }
        let host = try SIPHost.parse(scanner.bytes[hostStart..<scanner.index])
        var port: UInt16?
        if scanner.consume(UInt8(ascii: ":")) {
            scanner.skipWhitespace()
            let start = scanner.index
            while let byte = scanner.peek, SIPBytes.isDigit(byte) { scanner.index += 1 }
            guard let value = SIPBytes.decimal(scanner.bytes[start..<scanner.index], maximum: 65_535) else {
                throw .viaMalformed
            }
            port = UInt16(value)
        }
        let parameters: [SIPParameter]
        do { parameters = try scanner.parameters(limits: limits) } catch { throw .viaMalformed }
        self.protocolName = SIPBytes.lowercased(name) == "sip" ? "SIP" : name
        self.protocolVersion = version
        self.transport = String(decoding: transport.utf8.map { $0 >= 0x61 && $0 <= 0x7a ? $0 - 0x20 : $0 }, as: UTF8.self)
        self.host = host
        self.port = port
        self.parameters = parameters
        self.raw = String(value)
    }
}

/// A contact the redirect service hands out: a URI with optional display name and
/// parameters (`q`, `expires`, feature tags of RFC 3840 such as `audio`, `video`).
public struct SIPContact: Hashable, Sendable, CustomStringConvertible {
    public var uri: SIPAnyURI
    public var displayName: String?
    public var parameters: [SIPParameter]

    public init(uri: SIPAnyURI, displayName: String? = nil, parameters: [SIPParameter] = []) {
        self.uri = uri
        self.displayName = displayName
        self.parameters = parameters
    }

    public init(uri: SIPURI, displayName: String? = nil, parameters: [SIPParameter] = []) {
        self.init(uri: .sip(uri), displayName: displayName, parameters: parameters)
    }

    public init(_ nameAddress: SIPNameAddress) {
        self.init(uri: nameAddress.uri, displayName: nameAddress.displayName, parameters: nameAddress.parameters)
    }

    /// Parses one Contact value (`<sip:...>;q=0.5` or `sip:...`).
    public init(parsing text: String, limits: SIPLimits = .default) throws(SIPRejection) {
        do { self.init(try SIPNameAddress(parsing: text[...], limits: limits)) } catch { throw .contactMalformed }
    }

    /// The Contact header value: `"Name" <uri>;params`.
    public var description: String {
        SIPNameAddress(displayName: displayName, uri: uri, parameters: parameters).description
    }
}
