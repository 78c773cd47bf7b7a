/// An IPv4 or IPv6 network: an address and how many leading bits of it name the network
/// (`192.168.1.0/24`, `fd00:1::/64`). Islands compare the prefixes of their LANs to learn
/// whether an address of the other island could be reached at all: two LANs that both use
/// 192.168.1.0/24 cannot route to each other by those addresses (issue 14's relay).
public struct IPPrefix: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The network's first address (host bits cleared).
    public let network: IPAddress
    public let length: Int

    /// The prefix of `length` bits that holds `address`; nil when the length does not fit
    /// the family (0–32 for IPv4, 0–128 for IPv6).
    public init?(_ address: IPAddress, length: Int) {
        switch address {
        case .v4(let value):
            guard (0...32).contains(length) else { return nil }
            network = .v4(length == 0 ? 0 : value & ~UInt32(0) << UInt32(32 - length))
        case .v6(let high, let low):
            guard (0...128).contains(length) else { return nil }
            let keepHigh: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~UInt64(0) << UInt64(64 - length))
            let keepLow: UInt64 = length <= 64 ? 0 : (length == 128 ? ~0 : ~UInt64(0) << UInt64(128 - length))
            network = .v6(high & keepHigh, low & keepLow)
        }
        self.length = length
    }

    /// Reads `address/length`.
    public init(_ text: String) throws(DNSSDError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]) else { throw .addressMalformed(text) }
        guard let prefix = IPPrefix(try IPAddress(String(parts[0])), length: length) else { throw .addressMalformed(text) }
        self = prefix
    }

    /// Whether `address` lies in this network.
    public func contains(_ address: IPAddress) -> Bool {
        IPPrefix(address, length: length) == self
    }

    /// Whether the two networks share an address: one holds the other's first address.
    public func overlaps(_ other: IPPrefix) -> Bool {
        contains(other.network) || other.contains(network)
    }

    public static func < (a: IPPrefix, b: IPPrefix) -> Bool { (a.network, a.length) < (b.network, b.length) }

    public var description: String { "\(network)/\(length)" }
}
