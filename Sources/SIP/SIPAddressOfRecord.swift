/// An address of record: the stable `sip:user@host` a user is called at (RFC 3261 §6, §10.3).
///
/// Canonical form, following the registrar's rule of RFC 3261 §10.3 step 5 and this project's
/// choice for the DHT key (`sip/<AoR>`): parameters and headers removed, escapes decoded
/// (and re-applied only where the grammar requires), host lower-cased, user case-sensitive.
/// Deviations from §10.3: the port is removed too (a UA's port belongs to its contact, not its
/// name), and `sips:` folds into `sip:` — the redirect service keeps the SIPS requirement of the
/// request separately and only hands out `sips:` contacts for it (RFC 3261 §8.1.3.4).
public struct SIPAddressOfRecord: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Decoded user bytes; nil for a host-only AoR such as `sip:conference.example.org`.
    public let userBytes: [UInt8]?
    public let host: SIPHost

    public init(_ uri: SIPURI) {
        self.userBytes = uri.userBytes
        self.host = uri.host
    }

    public init(user: String?, host: SIPHost) {
        self.userBytes = user.map { Array($0.utf8) }
        self.host = host
    }

    /// Parses any SIP or SIPS URI and reduces it to its AoR.
    public init(parsing text: String, limits: SIPLimits = .default) throws(SIPRejection) {
        self.init(try SIPURI(parsing: text, limits: limits))
    }

    public var user: String? { userBytes.map { String(decoding: $0, as: UTF8.self) } }

    /// The DHT namespace of AoR bindings (DESIGN.md "Records in the DHT": `sip/<AoR>`); the record
    /// name is `description`, so the key is `RecordKey.make(network:namespace: "sip", name: aor.description)`.
    public static let dhtNamespace = "sip"

    /// `sip:user@host`, the canonical text and the DHT key's name.
    public var description: String {
        var text = "sip:"
        if let userBytes { text += SIPBytes.percentEncoded(userBytes, allowed: SIPBytes.user) + "@" }
        return text + host.description
    }

    /// The AoR as a URI (no port, parameters or headers).
    public var uri: SIPURI {
        var uri = SIPURI(host: host)
        uri.userBytes = userBytes
        return uri
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }
}
