import Kademlia
import NIOCore

/// Conversions between the core's `Endpoint` and NIO's `SocketAddress`.
extension Endpoint {
    public init?(_ address: SocketAddress) {
        guard let port = address.port, let p = UInt16(exactly: port) else { return nil }
        switch address {
        case .v4(let a):
            self.init(address: .v4(UInt32(bigEndian: a.address.sin_addr.s_addr)), port: p)
        case .v6(let a):
            var raw = a.address.sin6_addr
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            let hi = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let lo = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self.init(address: .v6(hi, lo), port: p)
        default:
            return nil
        }
    }

    public func socketAddress() throws -> SocketAddress {
        switch address {
        case .v4(let a):
            return try SocketAddress(ipAddress: "\(a >> 24).\(a >> 16 & 0xff).\(a >> 8 & 0xff).\(a & 0xff)", port: Int(port))
        case .v6(let hi, let lo):
            let groups = (0..<8).map { i -> String in
                String(UInt16(truncatingIfNeeded: (i < 4 ? hi : lo) >> UInt64(48 - 16 * (i % 4))), radix: 16)
            }
            return try SocketAddress(ipAddress: groups.joined(separator: ":"), port: Int(port))
        }
    }
}

extension Instant {
    /// The same instant as an event-loop deadline (the node's clock is the loop's).
    var deadline: NIODeadline { .uptimeNanoseconds(nanoseconds) }
}
