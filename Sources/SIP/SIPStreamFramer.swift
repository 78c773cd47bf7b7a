/// Cuts a TCP byte stream into SIP messages using Content-Length (RFC 3261 §18.3).
///
/// Feed it bytes as they arrive; `next()` returns each complete message once. A framing error
/// is fatal for the connection (the stream position is lost), so the adapter closes it.
/// Memory is bounded: at most `maximumMessageBytes` are ever buffered for one message.
public struct SIPStreamFramer: Sendable {
    public let limits: SIPLimits
    private var buffer: [UInt8] = []
    private var start = 0

    public init(limits: SIPLimits = .default) { self.limits = limits }

    /// Bytes waiting for the rest of their message.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start * 2 >= buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or nil until more bytes arrive.
    public mutating func next() throws(SIPRejection) -> [UInt8]? {
        // Keep-alive CRLFs between messages (RFC 5626 §3.5.1, RFC 3261 §7.5).
        while start + 1 < buffer.count, buffer[start] == SIPBytes.cr, buffer[start + 1] == SIPBytes.lf { start += 2 }
        guard let headEnd = endOfHeaders() else {
            guard bufferedCount <= limits.maximumMessageBytes else { throw .messageTooLarge(bytes: bufferedCount) }
            return nil
        }
        let head = Array(buffer[start..<headEnd])
        let message = try SIPMessage.parseHead(head, limits: limits).message
        let lengths = message.fields(.contentLength)
        guard lengths.count <= 1 else { throw .contentLengthConflict }
        guard let field = lengths.first else { throw .contentLengthMissing }
        guard let length = SIPBytes.decimal(field.value.utf8, maximum: UInt64(limits.maximumMessageBytes)) else {
            throw .contentLengthMalformed
        }
        let total = head.count + Int(length)
        guard total <= limits.maximumMessageBytes else { throw .messageTooLarge(bytes: total) }
        guard bufferedCount >= total else { return nil }
        let bytes = Array(buffer[start..<(start + total)])
        start += total
        return bytes
    }

    /// Index just past the CRLFCRLF that ends the header section, if buffered.
    private func endOfHeaders() -> Int? {
        var index = start
        let limit = min(buffer.count, start + limits.maximumMessageBytes + 4)
        while index + 3 < limit {
            if buffer[index + 3] != SIPBytes.lf { index += buffer[index + 3] == SIPBytes.cr ? 1 : 4; continue }
            if buffer[index] == SIPBytes.cr, buffer[index + 1] == SIPBytes.lf, buffer[index + 2] == SIPBytes.cr {
                return index + 4
            }
            index += 1
        }
        return nil
    }
}
