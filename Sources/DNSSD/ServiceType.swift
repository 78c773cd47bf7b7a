/// The transport label of a service type: `_tcp` for TCP, `_udp` for everything else (RFC 6763 §7).
public enum TransportProtocol: String, Hashable, Comparable, Sendable, CaseIterable {
    case tcp
    case udp

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A DNS-SD service type such as `_ipp._tcp`.
///
/// RFC 6763 §7 with the service-name rules of RFC 6335 §5.1: 1–15 characters, letters, digits
/// and hyphens only, at least one letter, no hyphen at either end and no two in a row.
/// Deviation: none; names seen in the wild that break these rules (`_nvstream_dbd._tcp`) are
/// refused with a reason rather than silently carried.
public struct ServiceType: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let maximumNameLength = 15

    /// The service name without its underscore: `ipp`.
    public let name: String
    public let transport: TransportProtocol

    public init(name: String, transport: TransportProtocol) throws(DNSSDError) {
        try Self.validateName(name)
        self.name = name
        self.transport = transport
    }

    /// Parses `_ipp._tcp` (a trailing dot is tolerated).
    public init(_ text: String) throws(DNSSDError) {
        var body = Substring(text)
        if body.hasSuffix(".") { body = body.dropLast() }
        let labels = body.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count == 2, labels[0].hasPrefix("_"), labels[1].hasPrefix("_") else {
            throw .serviceTypeMalformed(text)
        }
        guard let transport = TransportProtocol(rawValue: asciiLowercased(String(labels[1].dropFirst()))) else {
            throw .transportInvalid(String(labels[1]))
        }
        try self.init(name: String(labels[0].dropFirst()), transport: transport)
    }

    private static func validateName(_ name: String) throws(DNSSDError) {
        guard !name.isEmpty else { throw .serviceNameEmpty }
        for character in name {
            guard character.isASCII, character.isLetter || character.isNumber || character == "-" else {
                throw .serviceNameInvalidCharacter(character)
            }
        }
        guard name.count <= maximumNameLength else { throw .serviceNameTooLong(characters: name.count) }
        guard name.contains(where: \.isLetter) else { throw .serviceNameNoLetter }
        guard !name.hasPrefix("-"), !name.hasSuffix("-"), !name.contains("--") else {
            throw .serviceNameHyphenPlacement
        }
    }

    /// `_ipp._tcp`
    public var description: String { "_\(name)._\(transport.rawValue)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }
}

/// A DNS-SD subtype label such as `_printer` (RFC 6763 §7.1). Subtype labels may hold any
/// bytes; we require UTF-8 without control characters so they can be shown and logged.
public struct Subtype: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let label: String

    public init(_ label: String) throws(DNSSDError) {
        let bytes = Array(label.utf8)
        guard !bytes.isEmpty else { throw .subtypeEmpty }
        guard bytes.count <= 63 else { throw .subtypeTooLong(bytes: bytes.count) }
        if let bad = bytes.first(where: { $0 < 0x20 || $0 == 0x7f }) { throw .subtypeControlCharacter(byte: bad) }
        self.label = label
    }

    /// Parses the subtype's own label out of `_printer._sub._http._tcp` for the given type.
    public init(fullName: String, of type: ServiceType) throws(DNSSDError) {
        let suffix = "._sub.\(type.description)"
        guard fullName.hasSuffix(suffix) else { throw .serviceTypeMalformed(fullName) }
        try self.init(String(fullName.dropLast(suffix.count)))
    }

    public var description: String { label }

    /// The browsable name Avahi wants: `_printer._sub._http._tcp`.
    public func fullName(of type: ServiceType) -> String { "\(label)._sub.\(type.description)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.label < rhs.label }
}
