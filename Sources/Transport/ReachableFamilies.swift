import Kademlia
import NIOCore
import NIOPosix
import Primitives
import Synchronization

/// The address families this host can send to, from its own addresses: IPv4 with an IPv4
/// address other than loopback, IPv6 with an IPv6 address that is neither loopback nor
/// link-local (fe80 reaches only its link, and an endpoint carries no interface).
///
/// Why: the DHT socket is dual-stack, and contacts of either family reach every leader
/// (peer exchange hands on how others saw a node). A datagram to a family the host has no
/// address of fails with ENETUNREACH, and NIO closes a datagram channel on that error; so
/// an IPv4-only leader that learnt an IPv6 contact, or an IPv6-only one that learnt an IPv4
/// contact, would lose its socket at every such send. Such datagrams are not sent, as a
/// single-family socket never sent the other family's. Loopback is always reachable.
public struct ReachableFamilies: Hashable, Sendable {
    public var ipv4: Bool
    public var ipv6: Bool

    public init(ipv4: Bool, ipv6: Bool) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    /// Both families (a host whose addresses are not known).
    public static let both = ReachableFamilies(ipv4: true, ipv6: true)

    /// The families these addresses of the host reach.
    public init(hostAddresses: [Endpoint.Address]) {
        let outward = hostAddresses.filter { !Endpoint(address: $0, port: 0).isLoopback }
        ipv4 = outward.contains { if case .v4 = $0 { true } else { false } }
        ipv6 = outward.contains { address in
            guard case .v6(let high, _) = address else { return false }
            return high >> 54 != 0x3fa  // fe80::/10
        }
    }

    /// Whether a datagram to `endpoint` may be sent.
    public func reach(_ endpoint: Endpoint) -> Bool {
        if endpoint.isLoopback { return true }
        switch endpoint.address {
        case .v4: return ipv4
        case .v6: return ipv6
        }
    }
}

/// The host's `ReachableFamilies`, read from its interfaces again when older than
/// `refresh` (addresses come and go: DHCP, SLAAC after boot), shared by the DHT peer's
/// sends and its handler's.
final class HostFamilies: Sendable {
    private struct State {
        var families: ReachableFamilies = .both
        var readAt: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let refresh: Duration

    init(refresh: Duration = .seconds(5)) { self.refresh = refresh }

    func reach(_ endpoint: Endpoint) -> Bool {
        let now = ContinuousClock.now
        let families = state.withLock { state -> ReachableFamilies? in
            if let readAt = state.readAt, readAt.duration(to: now) < refresh { return state.families }
            return nil
        } ?? read(at: now)
        return families.reach(endpoint)
    }

    /// The addresses of the host's interfaces; nil when it cannot list them.
    static func hostAddresses() -> [Endpoint.Address]? {
        (try? System.enumerateDevices())?.compactMap { $0.address.flatMap(Endpoint.init)?.address }
    }

    private func read(at now: ContinuousClock.Instant) -> ReachableFamilies {
        // No interface list (an unusual sandbox): send as before rather than nothing.
        guard let addresses = Self.hostAddresses() else { return .both }
        let families = ReachableFamilies(hostAddresses: addresses)
        state.withLock { $0 = State(families: families, readAt: now) }
        return families
    }
}
