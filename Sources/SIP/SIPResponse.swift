/// A response: status line, header fields in order, body. Built by the redirect service and
/// printed with `serialized()`; `init(parsing:)` reads one (the server ignores responses, but
/// the parser is tested on RFC 4475's).
public struct SIPResponse: Hashable, Sendable {
    public var statusCode: Int
    public var reasonPhrase: String
    /// Header fields in wire order: (name as printed, value).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(statusCode: Int, reasonPhrase: String? = nil, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.statusCode = statusCode
        self.reasonPhrase = reasonPhrase ?? SIPStatus.defaultReason(statusCode)
        self.headers = headers
        self.body = body
    }

    /// Values of the fields with this name, in order.
    public func values(_ name: SIPHeaderName) -> [String] {
        headers.filter { SIPHeaderName($0.name) == name }.map(\.value)
    }

    /// The wire form; Content-Length is always written (and any given one replaced), so the
    /// bytes frame correctly on streams too (RFC 3261 §18.3).
    public func serialized() -> [UInt8] {
        var text = "SIP/2.0 \(statusCode) \(reasonPhrase)\r\n"
        for (name, value) in headers where SIPHeaderName(name) != .contentLength {
            text += "\(name): \(value)\r\n"
        }
        text += "Content-Length: \(body.count)\r\n\r\n"
        return Array(text.utf8) + body
    }

    /// Reads a framed response: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase, and
    /// the same Via, From, To, Call-ID and CSeq checks as requests.
    public init(parsing message: SIPMessage, limits: SIPLimits = .default) throws(SIPRejection) {
        guard message.isResponse else { throw .statusLineMalformed }
        let line = message.startLine
        guard let firstSpace = line.firstIndex(of: SIPBytes.space) else { throw .statusLineMalformed }
        try SIPVersion.check(line[..<firstSpace], malformed: .statusLineMalformed)
        let afterVersion = line[(firstSpace + 1)...]
        let codeEnd = afterVersion.firstIndex(of: SIPBytes.space) ?? afterVersion.endIndex
        let code = afterVersion[..<codeEnd]
        guard code.count == 3, let value = SIPBytes.decimal(code, maximum: 699), value >= 100 else {
            throw .statusCodeInvalid
        }
        guard codeEnd < afterVersion.endIndex else { throw .statusLineMalformed }
        let reason = afterVersion[(codeEnd + 1)...]
        // Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB)
        guard !reason.contains(where: { ($0 < 0x20 && $0 != SIPBytes.tab) || $0 == 0x7f }),
              let reasonText = String(validating: reason, as: UTF8.self) else { throw .reasonPhraseInvalid }
        _ = try SIPTransactionHeaders(message, limits: limits)
        try SIPScalars.validate(message)
        self.init(
            statusCode: Int(value), reasonPhrase: reasonText,
            headers: message.headers.map { ($0.wireName, $0.value) }, body: message.body
        )
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.statusCode == rhs.statusCode && lhs.reasonPhrase == rhs.reasonPhrase && lhs.body == rhs.body
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(statusCode)
        hasher.combine(reasonPhrase)
        for (name, value) in headers { hasher.combine(name); hasher.combine(value) }
        hasher.combine(body)
    }
}

/// The status codes this gateway sends, with their RFC 3261 §21 reason phrases.
public enum SIPStatus {
    public static let ok = 200
    public static let movedTemporarily = 302
    public static let badRequest = 400
    public static let unauthorized = 401
    public static let forbidden = 403
    public static let notFound = 404
    public static let methodNotAllowed = 405
    public static let unsupportedURIScheme = 416
    public static let intervalTooBrief = 423
    public static let temporarilyUnavailable = 480
    public static let badExtension = 420
    public static let callDoesNotExist = 481
    public static let loopDetected = 482
    public static let tooManyHops = 483
    public static let serverInternalError = 500
    public static let serviceUnavailable = 503
    public static let versionNotSupported = 505

    public static func defaultReason(_ code: Int) -> String {
        switch code {
        case 200: "OK"
        case 302: "Moved Temporarily"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 416: "Unsupported URI Scheme"
        case 420: "Bad Extension"
        case 423: "Interval Too Brief"
        case 480: "Temporarily Unavailable"
        case 481: "Call/Transaction Does Not Exist"
        case 482: "Loop Detected"
        case 483: "Too Many Hops"
        case 500: "Server Internal Error"
        case 503: "Service Unavailable"
        case 505: "Version Not Supported"
        default: "Unknown"
        }
    }
}
