/// A DNS domain name in presentation form without the trailing dot (`local`, `printer-3.local`).
///
/// Labels are 1–63 bytes, the whole name at most 253 bytes (255 on the wire). Labels may hold
/// UTF-8 as mDNS allows (RFC 6762 §16); control characters are refused.
/// Deviation: labels containing a literal dot (possible in DNS, never in host or domain names
/// that Avahi hands out) cannot be expressed.
public struct DomainName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let maximumBytes = 253
    public static let local = DomainName(unchecked: "local")

    public let value: String

    public init(_ text: String) throws(DNSSDError) {
        var body = Substring(text)
        if body.hasSuffix("."), body.count > 1 { body = body.dropLast() }
        guard !body.isEmpty else { throw .nameEmpty }
        let bytes = Array(body.utf8)
        guard bytes.count <= Self.maximumBytes else { throw .nameTooLong(bytes: bytes.count) }
        if let bad = bytes.first(where: { $0 < 0x20 || $0 == 0x7f }) { throw .nameControlCharacter(byte: bad) }
        for label in body.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { throw .labelEmpty(name: text) }
            guard label.utf8.count <= 63 else { throw .labelTooLong(label: String(label), bytes: label.utf8.count) }
        }
        self.value = String(body)
    }

    private init(unchecked value: String) { self.value = value }

    public var labels: [Substring] { value.split(separator: ".") }
    public var description: String { value }
    public var canonical: String { asciiLowercased(value) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}

/// A host name as published in SRV targets and address records (`tbp-host1.local`).
public typealias HostName = DomainName
