/// A header field name, compared ignoring ASCII case and with compact forms expanded
/// (RFC 3261 §7.3.1, §7.3.3: `v` is `Via`, `i` is `Call-ID`, ...).
public struct SIPHeaderName: Hashable, Sendable, CustomStringConvertible {
    /// The long form, lower-cased: `call-id` for `i`, `I`, `Call-ID` or `CALL-ID`.
    public let canonical: String

    public init(_ text: String) {
        let lower = SIPBytes.lowercased(text)
        self.canonical = Self.compactForms[lower] ?? lower
    }

    public var description: String { Self.displayNames[canonical] ?? canonical }

    public static let via = SIPHeaderName("Via")
    public static let from = SIPHeaderName("From")
    public static let to = SIPHeaderName("To")
    public static let callID = SIPHeaderName("Call-ID")
    public static let cseq = SIPHeaderName("CSeq")
    public static let maxForwards = SIPHeaderName("Max-Forwards")
    public static let contact = SIPHeaderName("Contact")
    public static let contentLength = SIPHeaderName("Content-Length")
    public static let contentType = SIPHeaderName("Content-Type")
    public static let require = SIPHeaderName("Require")
    public static let expires = SIPHeaderName("Expires")
    public static let retryAfter = SIPHeaderName("Retry-After")
    public static let route = SIPHeaderName("Route")
    public static let authorization = SIPHeaderName("Authorization")

    /// RFC 3261 §7.3.3 and the compact forms IANA registered since (RFC 3265, 3515, 3892, 4028, 3841).
    static let compactForms: [String: String] = [
        "a": "accept-contact", "b": "referred-by", "c": "content-type", "d": "request-disposition",
        "e": "content-encoding", "f": "from", "i": "call-id", "j": "reject-contact", "k": "supported",
        "l": "content-length", "m": "contact", "o": "event", "r": "refer-to", "s": "subject",
        "t": "to", "u": "allow-events", "v": "via", "x": "session-expires", "y": "identity",
        "n": "identity-info",
    ]

    static let displayNames: [String: String] = [
        "via": "Via", "from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq",
        "max-forwards": "Max-Forwards", "contact": "Contact", "content-length": "Content-Length",
        "content-type": "Content-Type", "require": "Require", "expires": "Expires",
        "retry-after": "Retry-After", "allow": "Allow", "unsupported": "Unsupported",
        "route": "Route", "authorization": "Authorization",
    ]
}

/// One header field as received: its name as written and its value after unfolding
/// (RFC 3261 §7.3.1: each folded line break becomes one SP; leading and trailing whitespace
/// is dropped). A field that lists several comma-separated values is still one field here.
public struct SIPHeaderField: Hashable, Sendable {
    public let name: SIPHeaderName
    /// The name exactly as it appeared on the wire (`v`, `VIA`, `Via`).
    public let wireName: String
    public let value: String

    public init(name wireName: String, value: String) {
        self.name = SIPHeaderName(wireName)
        self.wireName = wireName
        self.value = value
    }
}
