/// A request method: a token, compared case-sensitively (RFC 3261 §7.1, §20.16).
/// `RE%47IST%45R` (RFC 4475 `esc02`) is a valid, unknown method, not REGISTER.
public struct SIPMethod: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.allSatisfy(SIPBytes.isToken) else { return nil }
        self.rawValue = String(text)
    }

    private init(known: String) { self.rawValue = known }

    public var description: String { rawValue }

    public static let invite = SIPMethod(known: "INVITE")
    public static let ack = SIPMethod(known: "ACK")
    public static let bye = SIPMethod(known: "BYE")
    public static let cancel = SIPMethod(known: "CANCEL")
    public static let options = SIPMethod(known: "OPTIONS")
    public static let register = SIPMethod(known: "REGISTER")
    public static let message = SIPMethod(known: "MESSAGE")
}

/// `CSeq: 4711 INVITE` — sequence number below 2^31 and method (RFC 3261 §8.1.1.5, §20.16).
public struct SIPCSeq: Hashable, Sendable, CustomStringConvertible {
    public static let maximumNumber: UInt32 = (1 << 31) - 1

    public var number: UInt32
    public var method: SIPMethod

    public init(number: UInt32, method: SIPMethod) {
        self.number = number
        self.method = method
    }

    public init(parsing value: Substring) throws(SIPRejection) {
        let parts = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2,
              let number = SIPBytes.decimal(parts[0].utf8, maximum: UInt64(Self.maximumNumber)),
              let method = SIPMethod(parts[1]) else { throw .cseqMalformed }
        self.number = UInt32(number)
        self.method = method
    }

    public var description: String { "\(number) \(method)" }
}

/// Call-ID = word [ "@" word ] (RFC 3261 §20.8, §25.1).
enum SIPCallID {
    static func validate(_ value: String) throws(SIPRejection) {
        let parts = value.utf8.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
              parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { SIPBytes.word[Int($0)] } }) else {
            throw .callIDMalformed
        }
    }
}
