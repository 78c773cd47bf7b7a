import Primitives

/// Token buckets on inbound datagrams, checked before a datagram is authenticated or
/// decoded: one bucket per source and one for all sources (`Limits.sourcePacketsPerSecond`,
/// `totalPacketsPerSecond`), in a table of at most `rateLimitedSources` (`SourceRateLimiter`).
///
/// A source is an IPv4 address or an IPv6 /64 (one host, however many ports or ids it
/// uses); on loopback it is the address and port, since there every source is the same host
/// and tests run many nodes on it.
public struct InboundRateLimiter: Sendable {
    /// What happened to a datagram. `reason` is the refusal's metric label.
    public enum Verdict: Hashable, Sendable {
        case admitted
        case sourceLimited
        case totalLimited

        public var reason: String? {
            switch self {
            case .admitted: nil
            case .sourceLimited: "rate_limited_source"
            case .totalLimited: "rate_limited_total"
            }
        }
    }

    enum Source: Hashable, Sendable {
        case address(Endpoint.Address)
        case endpoint(Endpoint)
    }

    public let limits: Limits
    var buckets: SourceRateLimiter<Source>

    public init(limits: Limits) {
        self.limits = limits
        buckets = SourceRateLimiter(.init(perSource: limits.sourcePacketsPerSecond, sourceBurst: limits.sourcePacketBurst,
                                          total: limits.totalPacketsPerSecond, totalBurst: limits.totalPacketBurst,
                                          sources: limits.rateLimitedSources))
    }

    /// Sources with a bucket now (bounded by `rateLimitedSources` + 1).
    public var trackedSources: Int { buckets.trackedSources }

    public mutating func admit(from endpoint: Endpoint, now: Instant) -> Verdict {
        switch buckets.admit(Self.source(of: endpoint), now: now) {
        case .admitted: .admitted
        case .sourceLimited: .sourceLimited
        case .totalLimited: .totalLimited
        }
    }

    static func source(of endpoint: Endpoint) -> Source {
        if endpoint.isLoopback { return .endpoint(endpoint) }
        switch endpoint.address {
        case .v4: return .address(endpoint.address)
        case .v6(let high, _): return .address(.v6(high, 0))
        }
    }
}

extension Endpoint {
    /// 127.0.0.0/8 or ::1 (and ::ffff:127.0.0.0/104).
    public var isLoopback: Bool {
        switch address {
        case .v4(let a): a >> 24 == 127
        case .v6(let high, let low): high == 0 && (low == 1 || low >> 24 == 0xFFFF_7F)
        }
    }

    /// The subnet of the address (its first `ipv4Bits` or `ipv6Bits` bits, the rest zero).
    public func subnet(ipv4Bits: Int, ipv6Bits: Int) -> Address {
        switch address {
        case .v4(let a):
            let bits = max(0, min(32, ipv4Bits))
            return .v4(bits == 0 ? 0 : a & ~UInt32(0) << UInt32(32 - bits))
        case .v6(let high, let low):
            let bits = max(0, min(128, ipv6Bits))
            if bits <= 64 { return .v6(bits == 0 ? 0 : high & ~UInt64(0) << UInt64(64 - bits), 0) }
            return .v6(high, bits == 128 ? low : low & ~UInt64(0) << UInt64(128 - bits))
        }
    }
}
