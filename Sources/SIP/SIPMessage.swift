/// The transport a message arrived on decides how its end is found (RFC 3261 §18.3).
public enum SIPTransportKind: Hashable, Sendable {
    /// UDP: one message per datagram; without Content-Length the body runs to the datagram's end,
    /// and bytes beyond Content-Length are discarded.
    case datagram
    /// TCP/TLS: Content-Length is required and delimits the message in the stream.
    case stream
}

/// A framed SIP message: start line, header fields and body, before any header is interpreted.
///
/// Framing is deliberately separate from meaning: a request whose Request-URI or CSeq is broken
/// still frames, so the redirect service can answer it with `400 Bad Request` (RFC 4475 expects
/// that for most malformed requests); only a message that cannot be framed is dropped.
/// Invariants: no more than `SIPLimits.maximumHeaderFields` fields, each within
/// `maximumHeaderFieldBytes`; header values are UTF-8 without CR or LF.
public struct SIPMessage: Hashable, Sendable {
    /// The first line without its CRLF, as bytes (a reason phrase may be any UTF-8).
    public let startLine: [UInt8]
    public let headers: [SIPHeaderField]
    public let body: [UInt8]

    public init(startLine: [UInt8], headers: [SIPHeaderField], body: [UInt8]) {
        self.startLine = startLine
        self.headers = headers
        self.body = body
    }

    /// Responses start with the version (`SIP/2.0 200 OK`); everything else is a request.
    public var isResponse: Bool {
        startLine.count >= 4 && SIPBytes.lowercased(startLine.prefix(4)) == "sip/"
    }

    /// Every field with this name, in order.
    public func fields(_ name: SIPHeaderName) -> [SIPHeaderField] { headers.filter { $0.name == name } }

    /// The value of the only field with this name; nil when absent.
    public func singleValue(_ name: SIPHeaderName) throws(SIPRejection) -> String? {
        let matching = fields(name)
        guard matching.count <= 1 else { throw .headerRepeated(name.description) }
        return matching.first?.value
    }

    /// Frames one message. Over `.datagram` the bytes are the whole datagram.
    public static func parse(
        _ bytes: [UInt8], transport: SIPTransportKind = .datagram, limits: SIPLimits = .default
    ) throws(SIPRejection) -> SIPMessage {
        let head = try parseHead(bytes, limits: limits)
        let available = bytes.count - head.bodyStart
        var declared: Int?
        let lengths = head.message.fields(.contentLength)
        guard lengths.count <= 1 else { throw .contentLengthConflict }
        if let field = lengths.first {
            guard let value = SIPBytes.decimal(field.value.utf8, maximum: UInt64(limits.maximumMessageBytes)) else {
                throw .contentLengthMalformed
            }
            declared = Int(value)
        }
        let bodyCount: Int
        switch (transport, declared) {
        case (.stream, nil):
            throw .contentLengthMissing
        case (_, .some(let length)):
            guard length <= available else { throw .bodyTruncated(declared: length, available: available) }
            bodyCount = length
        case (.datagram, nil):
            bodyCount = available
        }
        let body = Array(bytes[head.bodyStart..<(head.bodyStart + bodyCount)])
        return SIPMessage(startLine: head.message.startLine, headers: head.message.headers, body: body)
    }

    /// Frames the start line and header section only; the body is left empty. The redirect
    /// service uses this to answer `400` to a request whose body framing is broken.
    /// `skippingMalformedLines` leaves out header lines without colon or with a bad name instead
    /// of refusing the message: the redirect service reads Via and CSeq that way to answer 400.
    public static func parseHead(
        _ bytes: [UInt8], limits: SIPLimits = .default, skippingMalformedLines: Bool = false
    ) throws(SIPRejection) -> (message: SIPMessage, bodyStart: Int) {
        guard bytes.count <= limits.maximumMessageBytes else { throw .messageTooLarge(bytes: bytes.count) }
        var index = 0
        // RFC 3261 §7.5: CRLFs before the start line are ignored (keep-alives on streams).
        while index + 1 < bytes.count, bytes[index] == SIPBytes.cr, bytes[index + 1] == SIPBytes.lf { index += 2 }
        guard index < bytes.count else { throw .messageEmpty }

        var lines = LineReader(bytes: bytes, index: index)
        guard let startRange = try lines.next(), !startRange.isEmpty else { throw .messageEmpty }
        let startLine = Array(bytes[startRange])
        guard startLine.count <= limits.maximumHeaderFieldBytes else {
            throw .headerFieldTooLong(bytes: startLine.count)
        }

        var headers: [SIPHeaderField] = []
        var pendingName: String?
        var pendingValue: [UInt8] = []
        func flush() throws(SIPRejection) {
            guard let name = pendingName else { return }
            let value = SIPBytes.trimmed(pendingValue[...])
            guard let text = String(validating: value, as: UTF8.self) else { throw .headerValueInvalidUTF8 }
            guard headers.count < limits.maximumHeaderFields else { throw .tooManyHeaderFields(count: headers.count + 1) }
            headers.append(SIPHeaderField(name: name, value: text))
            pendingName = nil
            pendingValue = []
        }

        while true {
            guard let range = try lines.next() else { throw .headerSectionUnterminated }
            if range.isEmpty { break }
            let line = bytes[range]
            if let first = line.first, SIPBytes.isWhitespace(first) {
                guard pendingName != nil else { throw .continuationWithoutHeader }
                // Unfold: the line break and the whitespace around it become one SP.
                while let last = pendingValue.last, SIPBytes.isWhitespace(last) { pendingValue.removeLast() }
                pendingValue.append(SIPBytes.space)
                pendingValue += SIPBytes.trimmed(line)
            } else {
                try flush()
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                    if skippingMalformedLines { continue }
                    throw .headerLineMalformed
                }
                let name = SIPBytes.trimmed(line[line.startIndex..<colon])
                // HCOLON = *( SP / HTAB ) ":" SWS: whitespace may only follow the name.
                guard !name.isEmpty, name.startIndex == line.startIndex, name.allSatisfy(SIPBytes.isToken) else {
                    if skippingMalformedLines { continue }
                    throw .headerNameInvalid
                }
                pendingName = String(decoding: name, as: UTF8.self)
                pendingValue = Array(line[(colon + 1)...])
            }
            let fieldBytes = (pendingName?.utf8.count ?? 0) + 1 + pendingValue.count
            guard fieldBytes <= limits.maximumHeaderFieldBytes else { throw .headerFieldTooLong(bytes: fieldBytes) }
        }
        try flush()
        return (SIPMessage(startLine: startLine, headers: headers, body: []), lines.index)
    }

    /// Splits bytes at CRLF; a bare CR or LF inside a line is an error, not a line break.
    struct LineReader {
        let bytes: [UInt8]
        var index: Int

        mutating func next() throws(SIPRejection) -> Range<Int>? {
            let start = index
            var cursor = index
            while cursor < bytes.count {
                let byte = bytes[cursor]
                if byte == SIPBytes.cr {
                    guard cursor + 1 < bytes.count else { return nil }
                    guard bytes[cursor + 1] == SIPBytes.lf else { throw .headerValueInvalidByte(SIPBytes.cr) }
                    index = cursor + 2
                    return start..<cursor
                }
                if byte == SIPBytes.lf { throw .headerValueInvalidByte(SIPBytes.lf) }
                cursor += 1
            }
            return nil
        }
    }
}
