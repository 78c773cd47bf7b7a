/// HTTP Digest authentication of REGISTER (RFC 3261 §22.4, RFC 2617 with MD5 and
/// `qop=auth`), the scheme every SIP phone speaks.
///
/// Nonces are stateless: `<seconds>.<MD5(secret:seconds)>`, where `seconds` counts from the
/// registrar's start; a nonce is accepted for `nonceLifetime` after it was made, so a
/// registrar needs no table of nonces and a restart invalidates all of them (the phone is
/// challenged again). Deviation: `nc` is not checked for replays within that lifetime.
public struct DigestAuthentication: Hashable, Sendable {
    public var realm: String
    /// Username → password. Empty: no authentication.
    public var credentials: [String: String]
    public var secret: String
    public var nonceLifetime: Duration

    public init(realm: String = "z2z", credentials: [String: String], secret: String, nonceLifetime: Duration = .seconds(300)) {
        self.realm = realm
        self.credentials = credentials
        self.secret = secret
        self.nonceLifetime = nonceLifetime
    }

    /// Why an Authorization header was not accepted (metric label and log key in `reason`).
    public enum Failure: Error, Hashable, Sendable {
        case missing
        case malformed
        case unknownUser
        case staleNonce
        case wrongResponse

        public var reason: String {
            switch self {
            case .missing: "authorization_missing"
            case .malformed: "authorization_malformed"
            case .unknownUser: "unknown_user"
            case .staleNonce: "stale_nonce"
            case .wrongResponse: "wrong_response"
            }
        }
    }

    /// The WWW-Authenticate value for a `401`.
    public func challenge(age: Duration, stale: Bool = false) -> String {
        "Digest realm=\"\(realm)\", nonce=\"\(nonce(seconds: age.components.seconds))\", algorithm=MD5, qop=\"auth\""
            + (stale ? ", stale=true" : "")
    }

    func nonce(seconds: Int64) -> String { "\(seconds).\(Self.md5("\(secret):\(seconds)"))" }

    /// Checks the Authorization values of a request; `age` is the time since the registrar started.
    public func verify(_ authorizations: [String], method: SIPMethod, age: Duration) -> Result<String, Failure> {
        guard !authorizations.isEmpty else { return .failure(.missing) }
        var lastFailure = Failure.malformed
        for value in authorizations {
            guard let fields = Self.parse(value) else { continue }
            guard let user = fields["username"], let nonce = fields["nonce"], let uri = fields["uri"],
                  let response = fields["response"], fields["realm"] == realm else { lastFailure = .malformed; continue }
            if let algorithm = fields["algorithm"], algorithm.lowercased() != "md5" { lastFailure = .malformed; continue }
            guard let password = credentials[user] else { lastFailure = .unknownUser; continue }
            let pieces = nonce.split(separator: ".", maxSplits: 1)
            guard pieces.count == 2, let seconds = Int64(pieces[0]), self.nonce(seconds: seconds) == nonce else {
                lastFailure = .staleNonce; continue
            }
            let now = age.components.seconds
            guard seconds <= now, Duration.seconds(now - seconds) <= nonceLifetime else { lastFailure = .staleNonce; continue }
            let qop = fields["qop"]
            guard qop == nil || (qop == "auth" && fields["nc"] != nil && fields["cnonce"] != nil) else {
                lastFailure = .malformed; continue
            }
            let expected = Self.response(user: user, realm: realm, password: password, method: method.rawValue, uri: uri,
                                         nonce: nonce, qop: qop.map { ($0, fields["nc"] ?? "", fields["cnonce"] ?? "") })
            guard expected == response.lowercased() else { lastFailure = .wrongResponse; continue }
            return .success(user)
        }
        return .failure(lastFailure)
    }

    /// The request-digest of RFC 2617 §3.2.2.1 (MD5; with `qop=auth` when `qop` is given).
    public static func response(
        user: String, realm: String, password: String, method: String, uri: String, nonce: String,
        qop: (qop: String, nc: String, cnonce: String)? = nil
    ) -> String {
        let ha1 = md5("\(user):\(realm):\(password)")
        let ha2 = md5("\(method):\(uri)")
        guard let qop else { return md5("\(ha1):\(nonce):\(ha2)") }
        return md5("\(ha1):\(nonce):\(qop.nc):\(qop.cnonce):\(qop.qop):\(ha2)")
    }

    /// `Digest a="b", c=d, ...` as a dictionary with lower-cased keys; nil when not Digest or malformed.
    static func parse(_ value: String) -> [String: String]? {
        var bytes = Substring(value).utf8[...]
        func skipSpace() { while let b = bytes.first, b == 0x20 || b == 0x09 { bytes = bytes.dropFirst() } }
        skipSpace()
        let scheme = bytes.prefix { $0 != 0x20 && $0 != 0x09 }
        guard String(decoding: scheme, as: UTF8.self).lowercased() == "digest" else { return nil }
        bytes = bytes.dropFirst(scheme.count)
        var fields: [String: String] = [:]
        while true {
            skipSpace()
            guard !bytes.isEmpty else { break }
            let name = bytes.prefix { $0 != UInt8(ascii: "=") && $0 != 0x20 && $0 != UInt8(ascii: ",") }
            guard !name.isEmpty else { return nil }
            bytes = bytes.dropFirst(name.count)
            skipSpace()
            guard bytes.first == UInt8(ascii: "=") else { return nil }
            bytes = bytes.dropFirst()
            skipSpace()
            var fieldValue: [UInt8] = []
            if bytes.first == UInt8(ascii: "\"") {
                bytes = bytes.dropFirst()
                var closed = false
                while let byte = bytes.first {
                    bytes = bytes.dropFirst()
                    if byte == UInt8(ascii: "\\") {
                        guard let escaped = bytes.first else { return nil }
                        fieldValue.append(escaped)
                        bytes = bytes.dropFirst()
                    } else if byte == UInt8(ascii: "\"") {
                        closed = true
                        break
                    } else {
                        fieldValue.append(byte)
                    }
                }
                guard closed else { return nil }
            } else {
                let token = bytes.prefix { $0 != UInt8(ascii: ",") && $0 != 0x20 && $0 != 0x09 }
                fieldValue = Array(token)
                bytes = bytes.dropFirst(token.count)
            }
            guard fields.count < 32 else { return nil }
            fields[String(decoding: name, as: UTF8.self).lowercased()] = String(decoding: fieldValue, as: UTF8.self)
            skipSpace()
            if bytes.first == UInt8(ascii: ",") { bytes = bytes.dropFirst() } else if !bytes.isEmpty { return nil }
        }
        return fields
    }

    /// Lower-case hex MD5 (RFC 2617 §3.2.2.2).
    static func md5(_ text: String) -> String { DigestHash.md5Hex(Array(text.utf8)) }
}
