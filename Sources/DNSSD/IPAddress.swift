#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as found in A/AAAA records.
///
/// Text conversion uses the C library's `inet_pton`/`inet_ntop`, the same routines Avahi
/// prints with, so our text matches `avahi-browse` exactly.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(UInt32)          // host byte order
    case v6(UInt64, UInt64)  // high and low halves, host byte order

    public init(_ text: String) throws(DNSSDError) {
        if let address = Self.parse(text) { self = address } else { throw .addressMalformed(text) }
    }

    /// Four (IPv4) or sixteen (IPv6) bytes in network order.
    public init(bytes: [UInt8]) throws(DNSSDError) {
        switch bytes.count {
        case 4:
            self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .v6(high, low)
        default:
            throw .addressMalformed("\(bytes.count) address bytes")
        }
    }

    private static func parse(_ text: String) -> IPAddress? {
        // The C parser sees the text only up to its first NUL; "10.0.0.1\0junk" is not an address.
        guard !text.utf8.contains(0) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return try? IPAddress(bytes: withUnsafeBytes(of: &v4) { Array($0) })
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return try? IPAddress(bytes: withUnsafeBytes(of: &v6) { Array($0) })
        }
        return nil
    }

    /// Network-order bytes.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    public var isIPv4: Bool { if case .v4 = self { true } else { false } }

    /// 169.254.0.0/16 or fe80::/10: valid only on one link, never exported (RFC 3927, RFC 4291).
    public var isLinkLocal: Bool {
        switch self {
        case .v4(let value): value >> 16 == 0xa9fe
        case .v6(let high, _): high >> 54 == 0x3fa // fe80::/10
        }
    }

    public var isLoopback: Bool {
        switch self {
        case .v4(let value): value >> 24 == 127
        case .v6(let high, let low): high == 0 && low == 1
        }
    }

    public var isUnspecified: Bool {
        switch self {
        case .v4(let value): value == 0
        case .v6(let high, let low): high == 0 && low == 0
        }
    }

    public var isMulticast: Bool {
        switch self {
        case .v4(let value): value >> 28 == 0xe
        case .v6(let high, _): high >> 56 == 0xff
        }
    }

    /// An address another link can reach by unicast routing: what z2z may export.
    public var isRoutable: Bool { !isLinkLocal && !isLoopback && !isUnspecified && !isMulticast && !isReservedIPv4 }

    /// 240.0.0.0/4 (reserved, RFC 1112 §4) including the limited broadcast 255.255.255.255.
    public var isReservedIPv4: Bool {
        if case .v4(let value) = self { value >> 28 == 0xf } else { false }
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var raw = bytes
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = raw.withUnsafeMutableBytes { source in
            inet_ntop(family, source.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok, let end = buffer.firstIndex(of: 0) else { return "?" }
        return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// IPv4 sorts before IPv6, then numerically.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        case (.v6(let ah, let al), .v6(let bh, let bl)): (ah, al) < (bh, bl)
        }
    }
}
