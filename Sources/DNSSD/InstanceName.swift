/// The user-visible `<Instance>` part of a DNS-SD service name ("Lab Printer 3.1 (Raum Ä)").
///
/// RFC 6763 §4.1.1: up to 63 bytes of UTF-8, no ASCII control characters, anything else
/// allowed — spaces, dots, parentheses, any script. The name is kept exactly as given
/// (case and Unicode form), because that is how it travels between islands.
///
/// Equality, hashing and order follow the UTF-8 bytes, as DNS compares labels, not Swift's
/// `String` rules: "Café" precomposed and decomposed are two different names on the link.
public struct InstanceName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// A DNS label holds at most 63 bytes.
    public static let maximumBytes = 63

    public let value: String

    public init(_ value: String) throws(DNSSDError) {
        try Self.validate(Array(value.utf8))
        self.value = value
    }

    /// Validates raw bytes from the network (they must be UTF-8).
    public init(bytes: [UInt8]) throws(DNSSDError) {
        try Self.validate(bytes)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidUTF8(offset: firstInvalidUTF8Offset(bytes))
        }
        self.value = text
    }

    private static func validate(_ bytes: [UInt8]) throws(DNSSDError) {
        guard !bytes.isEmpty else { throw .instanceNameEmpty }
        guard bytes.count <= maximumBytes else { throw .instanceNameTooLong(bytes: bytes.count) }
        for (offset, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x7f {
            throw .instanceNameControlCharacter(byte: byte, offset: offset)
        }
    }

    public var description: String { value }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.value.utf8.elementsEqual(rhs.value.utf8) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value.utf8.count)
        for byte in value.utf8 { hasher.combine(byte) }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8) }

    /// The same name as mDNS compares it: ASCII letters folded to lower case (RFC 6762 §16).
    public var canonical: String { asciiLowercased(value) }
}

/// Lower-cases ASCII letters only, as DNS name comparison does; other bytes stay as they are.
func asciiLowercased(_ text: String) -> String {
    String(decoding: text.utf8.map { (0x41...0x5a).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
}

func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var offset = 0
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue(let scalar): offset += UTF8.width(scalar)
        case .emptyInput: return bytes.count
        case .error: return offset
        }
    }
}
