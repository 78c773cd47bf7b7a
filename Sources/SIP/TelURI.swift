/// A `tel:` URI (RFC 3966): a global (`+`) or local number with parameters.
///
/// Visual separators (`-`, `.`, `(`, `)`) carry no meaning (RFC 3966 §5.1.1) and are dropped on
/// parse, so `tel:+1-201-555-0123` equals `tel:+12015550123`.
/// Deviation: parameters are checked as `;name[=paramchar*]` only; `isub`, `ext` and
/// `phone-context` values are not validated against their own grammar.
public struct TelURI: Hashable, Sendable, CustomStringConvertible {
    /// The number without visual separators, `+` included for global numbers.
    public var number: String
    public var parameters: [SIPURIParameter]

    public init(number: String, parameters: [SIPURIParameter] = []) {
        self.number = number
        self.parameters = parameters
    }

    public var isGlobal: Bool { number.hasPrefix("+") }

    public var description: String {
        number + parameters.map { ";" + $0.description }.joined()
    }

    static func parse(afterScheme bytes: ArraySlice<UInt8>, limits: SIPLimits) throws(SIPRejection) -> TelURI {
        let semicolon = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
        let numberPart = bytes[..<semicolon]
        let parameters = try SIPURIParameter.parseList(bytes[semicolon...], limits: limits)
        let visual: Set<UInt8> = [UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")")]
        var number: [UInt8] = []
        if numberPart.first == UInt8(ascii: "+") {
            number.append(UInt8(ascii: "+"))
            for byte in numberPart.dropFirst() {
                if SIPBytes.isDigit(byte) { number.append(byte) } else if !visual.contains(byte) { throw .telNumberInvalid }
            }
            guard number.count > 1 else { throw .telNumberInvalid }
        } else {
            for byte in numberPart {
                if SIPBytes.isHex(byte) || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "#") {
                    number.append(SIPBytes.lowercased(byte))
                } else if !visual.contains(byte) {
                    throw .telNumberInvalid
                }
            }
            // A local number is only meaningful with its context (RFC 3966 §5.1.5).
            guard !number.isEmpty, parameters.contains(where: { $0.name == "phone-context" }) else {
                throw .telNumberInvalid
            }
        }
        return TelURI(number: String(decoding: number, as: UTF8.self), parameters: parameters)
    }
}

/// Any URI a SIP message can carry: SIP/SIPS, tel, or another scheme kept as opaque text.
///
/// The Request-URI of a request this gateway answers must be SIP or SIPS; other schemes are
/// still parsed (RFC 3261 §8.2.2.1 wants a `416 Unsupported URI Scheme`, not a `400`).
public enum SIPAnyURI: Hashable, Sendable, CustomStringConvertible {
    case sip(SIPURI)
    case tel(TelURI)
    /// Scheme lower-cased; the rest exactly as written.
    case other(scheme: String, rest: String)

    public init(parsing text: String, limits: SIPLimits = .default) throws(SIPRejection) {
        let bytes = Array(text.utf8)
        guard bytes.count <= limits.maximumURIBytes else { throw .uriTooLong(bytes: bytes.count) }
        self = try Self.parse(bytes[...], limits: limits)
    }

    public var description: String {
        switch self {
        case .sip(let uri): uri.description
        case .tel(let uri): "tel:" + uri.description
        case .other(let scheme, let rest): scheme + ":" + rest
        }
    }

    public var scheme: String {
        switch self {
        case .sip(let uri): uri.scheme
        case .tel: "tel"
        case .other(let scheme, _): scheme
        }
    }

    /// `scheme` = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), lower-cased; nil when there is none.
    static func scheme(of bytes: ArraySlice<UInt8>) -> String? {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > bytes.startIndex,
              let first = bytes.first, SIPBytes.isAlpha(first),
              bytes[..<colon].allSatisfy({ SIPBytes.scheme[Int($0)] }) else { return nil }
        return SIPBytes.lowercased(bytes[..<colon])
    }

    static func parse(_ bytes: ArraySlice<UInt8>, limits: SIPLimits) throws(SIPRejection) -> SIPAnyURI {
        guard bytes.count <= limits.maximumURIBytes else { throw .uriTooLong(bytes: bytes.count) }
        guard let scheme = scheme(of: bytes), let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
            throw .uriSchemeMissing
        }
        let rest = bytes[(colon + 1)...]
        // Whitespace and controls never appear in a URI (RFC 3261 §25.1, absoluteURI).
        guard !rest.contains(where: { $0 <= 0x20 || $0 == 0x7f }) else {
            throw scheme == "tel" ? .telNumberInvalid : .uriHostInvalid
        }
        switch scheme {
        case "sip": return .sip(try SIPURI.parse(afterScheme: rest, isSecure: false, limits: limits))
        case "sips": return .sip(try SIPURI.parse(afterScheme: rest, isSecure: true, limits: limits))
        case "tel": return .tel(try TelURI.parse(afterScheme: rest, limits: limits))
        default:
            guard !rest.isEmpty, let text = String(validating: rest, as: UTF8.self) else { throw .uriSchemeMissing }
            return .other(scheme: scheme, rest: text)
        }
    }
}
