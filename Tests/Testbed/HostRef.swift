/// One machine of a testbed: host `index` on island `island` (both from 1), or the router.
///
/// The description is the name `Deploy/testbed` uses: `i1h2`, `router`.
public enum HostRef: Hashable, Sendable, CustomStringConvertible {
    case host(island: Int, index: Int)
    case router

    /// Host `h` on island `island`, spelled like the testbed names it: `.i(1, h: 2)` is `i1h2`.
    public static func i(_ island: Int, h: Int) -> HostRef { .host(island: island, index: h) }

    public var description: String {
        switch self {
        case .host(let island, let index): "i\(island)h\(index)"
        case .router: "router"
        }
    }

    /// The island a host sits on; nil for the router, which sits on all of them.
    public var island: Int? {
        if case .host(let island, _) = self { island } else { nil }
    }
}
