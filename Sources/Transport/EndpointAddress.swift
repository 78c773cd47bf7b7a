import NIOCore
import Primitives

import Glibc

/// Conversions between the core's `Endpoint` and NIO's `SocketAddress`.
///
/// Sockets that listen for anyone (the DHT's, which also carries heartbeats) are bound to
/// the IPv6 wildcard with `IPV6_V6ONLY` off, so that one socket serves IPv4 and IPv6 peers
/// and an IPv6-only island needs nothing else. Such a socket names an IPv4 peer by its
/// IPv4-mapped address (`::ffff:a.b.c.d`); the core sees it as the IPv4 address it is, so
/// contacts, subnet limits and rate limits know each host by one form, and sending to it
/// maps it back (`socketAddress(from:)`).
extension Endpoint {
    /// The endpoint of a socket address; an IPv4-mapped IPv6 address is its IPv4 address.
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
            self.init(address: Endpoint.Address.v6(hi, lo).unmapped, port: p)
        default:
            return nil
        }
    }

    public func socketAddress() throws -> SocketAddress {
        try SocketAddress(ipAddress: host, port: Int(port))
    }

    /// The address to send to from a socket bound at `local`; nil when the socket cannot
    /// reach the endpoint's family (an IPv6 contact on an IPv4 socket, an IPv4 one on a
    /// socket bound to one IPv6 address): such a write would fail, and NIO closes a datagram
    /// channel on a failed write, so it is never attempted. From the IPv6 wildcard (a
    /// dual-stack socket) an IPv4 endpoint is sent to as its IPv4-mapped address.
    public func socketAddress(from local: SocketAddress?) -> SocketAddress? {
        guard let address = try? socketAddress() else { return nil }
        guard let local, address.protocol != local.protocol else { return address }
        guard case .v4(let value) = self.address, local.protocol == .inet6,
              Endpoint(local)?.address == .v6(0, 0) else { return nil }
        return try? Endpoint(address: .v6(0, 0xffff_0000_0000 | UInt64(value)), port: port).socketAddress()
    }
}

extension Endpoint.Address {
    /// The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2)
    /// stands for; any other address as it is.
    public var unmapped: Endpoint.Address {
        guard case .v6(let hi, let lo) = self, hi == 0, lo >> 32 == 0xffff else { return self }
        return .v4(UInt32(truncatingIfNeeded: lo))
    }
}

/// Where a socket that should hear everyone binds: the IPv6 wildcard, which serves IPv4 too
/// with `dualStackOption` off (an IPv6-only LAN has nothing else), or the IPv4 wildcard on a
/// host without IPv6 (the kernel's `ipv6.disable=1`), where no IPv6 socket can be opened.
public enum Wildcard {
    /// "::" when this host can open an IPv6 socket, else "0.0.0.0".
    public static var host: String {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return "0.0.0.0" }
        close(fd)
        return "::"
    }

    /// `IPV6_V6ONLY` off: an IPv6 wildcard socket takes IPv4 too, whatever the host's
    /// `net.ipv6.bindv6only` default. Only for IPv6 sockets (an IPv4 one refuses it).
    public static let dualStackOption = ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only)

    /// Whether `host` is an IPv6 address, whose socket takes `dualStackOption`.
    public static func isIPv6(_ host: String) -> Bool { host.contains(":") }
}

extension Instant {
    /// The same instant as an event-loop deadline (the node's clock is the loop's).
    var deadline: NIODeadline { .uptimeNanoseconds(nanoseconds) }
}
