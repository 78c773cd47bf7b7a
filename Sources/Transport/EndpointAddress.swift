import NIOCore
import Primitives

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
        try SocketAddress(ipAddress: host, port: Int(port))
    }

    /// The address to send to from a socket bound at `local`; nil when the endpoint is of the
    /// other family (an IPv6 contact on an IPv4 socket): such a write would fail, and NIO
    /// closes a datagram channel on a failed write, so it is never attempted.
    public func socketAddress(from local: SocketAddress?) -> SocketAddress? {
        guard let address = try? socketAddress() else { return nil }
        guard let local else { return address }
        return address.protocol == local.protocol ? address : nil
    }
}

extension Instant {
    /// The same instant as an event-loop deadline (the node's clock is the loop's).
    var deadline: NIODeadline { .uptimeNanoseconds(nanoseconds) }
}
