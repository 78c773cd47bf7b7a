/// Where a node listens: an IPv4 or IPv6 address and a UDP port. A plain value so the core
/// stays free of socket types; the transport converts to and from `SocketAddress`.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public enum Address: Hashable, Sendable {
        /// Four bytes in network order, packed big-endian.
        case v4(UInt32)
        /// Sixteen bytes in network order, as two big-endian halves.
        case v6(UInt64, UInt64)
    }

    public var address: Address
    public var port: UInt16

    public init(address: Address, port: UInt16) {
        self.address = address
        self.port = port
    }

    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        self.init(address: .v4(UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)), port: port)
    }

    /// Parses `a.b.c.d:port` (IPv4 only; enough for configuration and tests).
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { return nil }
        let octets = parts[0].split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return nil }
        self.init(ipv4: octets[0], octets[1], octets[2], octets[3], port: port)
    }

    /// The address alone, as text (`a.b.c.d`, or eight uncompressed hex groups for IPv6).
    public var host: String {
        switch address {
        case .v4(let a):
            return "\(a >> 24).\(a >> 16 & 0xff).\(a >> 8 & 0xff).\(a & 0xff)"
        case .v6(let hi, let lo):
            let groups = (0..<8).map { i -> String in
                let word = i < 4 ? hi : lo
                return String(UInt16(truncatingIfNeeded: word >> UInt64(48 - 16 * (i % 4))), radix: 16)
            }
            return groups.joined(separator: ":")
        }
    }

    public var description: String {
        switch address {
        case .v4: "\(host):\(port)"
        case .v6: "[\(host)]:\(port)"
        }
    }
}

extension Endpoint.Address {
    /// From network-order bytes: 4 for IPv4, 16 for IPv6; nil for any other count.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16: self = .v6(bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }, bytes.suffix(8).reduce(0) { $0 << 8 | UInt64($1) })
        default: return nil
        }
    }

    /// Network-order bytes: 4 for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): withUnsafeBytes(of: a.bigEndian) { Array($0) }
        case .v6(let high, let low): withUnsafeBytes(of: high.bigEndian) { Array($0) } + withUnsafeBytes(of: low.bigEndian) { Array($0) }
        }
    }
}
