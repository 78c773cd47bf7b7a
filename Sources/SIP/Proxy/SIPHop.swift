/// Where a forwarded message goes next: a host (an IP address; a name the adapter resolves)
/// and a UDP port (RFC 3261 §18.1.1, without the SRV and NAPTR steps of RFC 3263).
public struct SIPHop: Hashable, Sendable, CustomStringConvertible {
    public var host: SIPHost
    public var port: UInt16

    public init(host: SIPHost, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// The hop a URI names: `maddr` when present (§19.1.1), else the host; the port, else 5060
    /// (5061 for `sips:`).
    public init(_ uri: SIPURI) {
        var host = uri.host
        if case .some(.some(let maddr)) = uri.parameter("maddr"), let parsed = try? SIPHost(parsing: maddr) { host = parsed }
        self.init(host: host, port: uri.port ?? (uri.isSecure ? 5061 : 5060))
    }

    public var description: String { "\(host):\(port)" }
}

/// A message the gateway sends on its own: a forwarded request, a relayed response, a probe.
public struct SIPOutbound: Hashable, Sendable {
    public var bytes: [UInt8]
    public var hop: SIPHop

    public init(bytes: [UInt8], hop: SIPHop) {
        self.bytes = bytes
        self.hop = hop
    }
}

/// The gateway as a SIP node: the addresses it answers on and its SIP port. A URI or Via
/// sent-by naming one of these hosts (with this port, or none when the port is 5060) is "us".
public struct SIPNodeIdentity: Hashable, Sendable {
    public var hosts: Set<SIPHost>
    public var port: UInt16

    public init(hosts: Set<SIPHost>, port: UInt16 = 5060) {
        self.hosts = hosts
        self.port = port
    }

    public func isUs(_ host: SIPHost, port: UInt16?) -> Bool {
        hosts.contains(host) && (port ?? 5060) == self.port
    }

    public func isUs(_ uri: SIPURI) -> Bool { isUs(uri.host, port: uri.port) }

    /// The sent-by host for a Via toward `hop`: an own address of the hop's family, so the
    /// response can come back (loopback only toward loopback); any own address otherwise.
    public func viaHost(toward hop: SIPHost) -> SIPHost? {
        let ordered = hosts.sorted { $0.description < $1.description }
        let candidates = ordered.filter { Self.isLoopback($0) == Self.isLoopback(hop) && !Self.isLinkLocal($0) }
        let sameFamily = candidates.first { own in
            switch (own, hop) {
            case (.ipv4, .ipv4), (.ipv6, .ipv6): true
            default: false
            }
        }
        return sameFamily ?? candidates.first { if case .name = $0 { false } else { true } } ?? ordered.first
    }

    static func isLoopback(_ host: SIPHost) -> Bool {
        switch host {
        case .ipv4(let value): value >> 24 == 127
        case .ipv6(let bytes): bytes == [UInt8](repeating: 0, count: 15) + [1]
        case .name(let name): name == "localhost"
        }
    }

    static func isLinkLocal(_ host: SIPHost) -> Bool {
        if case .ipv6(let bytes) = host, bytes.count == 16 { return bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 }
        return false
    }
}

/// An IP prefix: the island's link, for who may register and use the gateway as outbound proxy.
public struct SIPSubnet: Hashable, Sendable, CustomStringConvertible {
    public var network: SIPHost
    public var prefixLength: Int

    public init(network: SIPHost, prefixLength: Int) {
        self.network = network
        self.prefixLength = prefixLength
    }

    /// `10.0.1.0/24` or `fd00:1::/64`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let length = Int(parts[1]) else { return nil }
        let hostText = parts[0].contains(":") ? "[\(parts[0])]" : String(parts[0])
        guard let host = try? SIPHost(parsing: hostText) else { return nil }
        switch host {
        case .ipv4: guard (0...32).contains(length) else { return nil }
        case .ipv6: guard (0...128).contains(length) else { return nil }
        case .name: return nil
        }
        self.init(network: host, prefixLength: length)
    }

    public func contains(_ host: SIPHost) -> Bool {
        switch (network, host) {
        case (.ipv4(let net), .ipv4(let address)):
            guard prefixLength > 0 else { return true }
            let mask: UInt32 = prefixLength >= 32 ? .max : ~(UInt32.max >> UInt32(prefixLength))
            return net & mask == address & mask
        case (.ipv6(let net), .ipv6(let address)):
            guard net.count == 16, address.count == 16 else { return false }
            var remaining = prefixLength
            for index in 0..<16 where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
                guard net[index] & mask == address[index] & mask else { return false }
                remaining -= bits
            }
            return true
        default:
            return false
        }
    }

    public var description: String {
        switch network {
        case .ipv6(let bytes): "\(SIPHost.format(ipv6: bytes))/\(prefixLength)"
        default: "\(network)/\(prefixLength)"
        }
    }
}
