/// One machine of a testbed: host `index` on island `island` (both from 1), the router, or
/// the NAT router of a masqueraded island (`Topology.masqueraded`).
///
/// The description is the name `Deploy/testbed` uses: `i1h2`, `router`, `n3`.
public enum HostRef: Hashable, Sendable, CustomStringConvertible {
    case host(island: Int, index: Int)
    case router
    /// The NAT router between island `island`'s link and the uplink segment; it runs no
    /// avahi-daemon.
    case nat(island: Int)

    /// Host `h` on island `island`, spelled like the testbed names it: `.i(1, h: 2)` is `i1h2`.
    public static func i(_ island: Int, h: Int) -> HostRef { .host(island: island, index: h) }

    public var description: String {
        switch self {
        case .host(let island, let index): "i\(island)h\(index)"
        case .router: "router"
        case .nat(let island): "n\(island)"
        }
    }

    /// The island a host or NAT router sits on; nil for the router, which sits on all of them.
    public var island: Int? {
        switch self {
        case .host(let island, _), .nat(let island): island
        case .router: nil
        }
    }
}
