/// A request with the header fields a redirect server relies on checked and typed
/// (RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards, Via; §8.2.2: scheme, version).
///
/// Every other header stays available untyped through `message`. Deviations, each for
/// RFC 2543 peers (RFC 4475 `inv2543`): Max-Forwards may be absent (treated as 70 by the
/// redirect service), a From without tag is accepted, and a top Via without the `z9hG4bK`
/// branch cookie is accepted (RFC 4475 `badbranch`).
public struct SIPRequest: Hashable, Sendable {
    public var method: SIPMethod
    public var requestURI: SIPAnyURI
    public var via: [SIPVia]
    public var from: SIPNameAddress
    public var to: SIPNameAddress
    public var callID: String
    public var cseq: SIPCSeq
    public var maxForwards: Int?
    /// `nil` without Contact; `.wildcard` for `Contact: *` (REGISTER only, §10.2.2).
    public var contacts: SIPContactList?
    public var message: SIPMessage

    public init(_ message: SIPMessage, limits: SIPLimits = .default) throws(SIPRejection) {
        guard !message.isResponse else { throw .responseIgnored }
        let line = try Self.parseRequestLine(message.startLine, limits: limits)
        self.method = line.method
        self.requestURI = line.uri
        self.message = message
        let transaction = try SIPTransactionHeaders(message, limits: limits)
        self.via = transaction.via
        self.from = transaction.from
        self.to = transaction.to
        self.callID = transaction.callID
        self.cseq = transaction.cseq
        guard cseq.method == method else { throw .cseqMethodMismatch }
        if let value = try message.singleValue(.maxForwards) {
            guard let hops = SIPBytes.decimal(value.utf8, maximum: 255) else { throw .maxForwardsMalformed }
            self.maxForwards = Int(hops)
        }
        self.contacts = try SIPContactList.parse(message, limits: limits)
        try SIPScalars.validate(message)
    }

    /// Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP between elements.
    static func parseRequestLine(_ line: [UInt8], limits: SIPLimits) throws(SIPRejection) -> (method: SIPMethod, uri: SIPAnyURI) {
        let parts = line.split(separator: SIPBytes.space, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty else { throw .requestLineMalformed }
        guard let methodText = String(validating: parts[0], as: UTF8.self), let method = SIPMethod(methodText) else {
            throw .methodInvalid
        }
        try SIPVersion.check(parts[2], malformed: .requestLineMalformed)
        let uri = try SIPAnyURI.parse(parts[1], limits: limits)
        // RFC 3261 §19.1.1 table 1: headers are not allowed in a Request-URI (RFC 4475 `escruri`).
        if case .sip(let sipURI) = uri, !sipURI.headers.isEmpty { throw .uriHeaderInvalid }
        return (method, uri)
    }

    static func parseVia(_ message: SIPMessage, limits: SIPLimits) throws(SIPRejection) -> [SIPVia] {
        var vias: [SIPVia] = []
        for field in message.fields(.via) {
            for value in try HeaderValueScanner.splitList(field.value, limits: limits) {
                vias.append(try SIPVia(parsing: value, limits: limits))
                guard vias.count <= limits.maximumListValues else { throw .tooManyListValues(count: vias.count) }
            }
        }
        guard !vias.isEmpty else { throw .headerMissing("Via") }
        return vias
    }

    /// The Require option tags (RFC 3261 §20.32); this server supports none of them.
    public var requiredExtensions: [String] {
        message.fields(.require).flatMap { $0.value.split(separator: ",") }
            .map { String(SIPBytes.trimmed($0)) }.filter { !$0.isEmpty }
    }
}

/// Via, From, To, Call-ID and CSeq: the fields every request and response must carry, and
/// that a response copies from its request (RFC 3261 §8.1.1, §8.2.6.2).
struct SIPTransactionHeaders {
    var via: [SIPVia]
    var from: SIPNameAddress
    var to: SIPNameAddress
    var callID: String
    var cseq: SIPCSeq

    init(_ message: SIPMessage, limits: SIPLimits) throws(SIPRejection) {
        via = try SIPRequest.parseVia(message, limits: limits)
        guard let fromValue = try message.singleValue(.from) else { throw .headerMissing("From") }
        guard let toValue = try message.singleValue(.to) else { throw .headerMissing("To") }
        do { from = try SIPNameAddress(parsing: fromValue[...], limits: limits) } catch { throw .fromMalformed }
        do { to = try SIPNameAddress(parsing: toValue[...], limits: limits) } catch { throw .toMalformed }
        guard let callID = try message.singleValue(.callID) else { throw .headerMissing("Call-ID") }
        try SIPCallID.validate(callID)
        self.callID = callID
        guard let cseqValue = try message.singleValue(.cseq) else { throw .headerMissing("CSeq") }
        cseq = try SIPCSeq(parsing: cseqValue[...])
    }
}

/// The Contact header of a request: a wildcard or a list of addresses.
public enum SIPContactList: Hashable, Sendable {
    case wildcard
    case addresses([SIPNameAddress])

    static func parse(_ message: SIPMessage, limits: SIPLimits) throws(SIPRejection) -> SIPContactList? {
        let fields = message.fields(.contact)
        guard !fields.isEmpty else { return nil }
        if fields.count == 1, fields[0].value == "*" { return .wildcard }
        var addresses: [SIPNameAddress] = []
        for field in fields {
            for value in try HeaderValueScanner.splitList(field.value, limits: limits) {
                do { addresses.append(try SIPNameAddress(parsing: value, limits: limits)) } catch { throw .contactMalformed }
                guard addresses.count <= limits.maximumListValues else { throw .tooManyListValues(count: addresses.count) }
            }
        }
        return .addresses(addresses)
    }
}

/// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, compared ignoring case; only 2.0 is spoken.
enum SIPVersion {
    static func check(_ bytes: ArraySlice<UInt8>, malformed: SIPRejection) throws(SIPRejection) {
        let text = SIPBytes.lowercased(bytes)
        guard text.hasPrefix("sip/") else { throw malformed }
        let numbers = text.dropFirst(4).split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count == 2, numbers.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(SIPBytes.isDigit) }) else {
            throw malformed
        }
        guard text == "sip/2.0" else { throw .versionUnsupported(String(decoding: bytes, as: UTF8.self)) }
    }
}

/// Range checks for the numeric header fields the parser does not otherwise interpret
/// (RFC 3261 §20.19 Expires, §20.33 Retry-After: delta-seconds fit 32 bits; §20.43 Warning:
/// a three-digit code). RFC 4475 `scalar02` and `scalarlg` overflow exactly these.
enum SIPScalars {
    static func validate(_ message: SIPMessage) throws(SIPRejection) {
        for field in message.fields(.expires) {
            guard SIPBytes.decimal(field.value.utf8, maximum: UInt64(UInt32.max)) != nil else {
                throw .scalarOutOfRange("Expires")
            }
        }
        for field in message.fields(.retryAfter) {
            let digits = field.value.utf8.prefix(while: SIPBytes.isDigit)
            guard SIPBytes.decimal(digits, maximum: UInt64(UInt32.max)) != nil else {
                throw .scalarOutOfRange("Retry-After")
            }
        }
        for field in message.fields(SIPHeaderName("Warning")) {
            for value in try HeaderValueScanner.splitList(field.value, limits: .default) {
                let code = value.utf8.prefix(while: { $0 != SIPBytes.space })
                guard code.count == 3, SIPBytes.decimal(code, maximum: 999) != nil else {
                    throw .scalarOutOfRange("Warning")
                }
            }
        }
    }
}
