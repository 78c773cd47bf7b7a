/// How a testbed's islands reach each other: by default the router routes every island;
/// the other options build the LANs the router does not route — overlapping prefixes,
/// gateway hosts with a leg on a shared uplink segment, islands behind a NAT router of their
/// own, link-local-only islands, IPv6-only islands. They combine; `Deploy/testbed --help` has the address plan.
///
///     try await Testbed.with(islands: 3, hosts: 2, topology: .init(samePrefix: true, uplink: true, masqueraded: [3])) { bed in
///         bed.uplinkAddress(of: .i(1, h: 1))   // (v4: "100.64.1.1", v6: "fd64::1:1")
///         bed.natAddress(ofIsland: 3)          // (v4: "100.64.3.254", v6: "fd64::3:254")
///     }
public struct Topology: Hashable, Sendable, CustomStringConvertible {
    /// Every island's LAN has the same prefixes (island 1's) and host numbers, so the
    /// router routes none of them: hosts have no route off their link (`--same-prefix`).
    public var samePrefix: Bool
    /// No island is routed; the first `gateways` hosts of each island have a second
    /// interface, `uplink`, on a shared segment where they reach each other (`--uplink`).
    public var uplink: Bool
    /// How many hosts of each island (h1, h2, ...) are gateway hosts under `uplink`.
    public var gateways: Int
    /// Islands behind a masquerading NAT router of their own, `.nat(island)`: their hosts
    /// dial out, nothing dials in (`--masquerade`).
    public var masqueraded: Set<Int>
    /// Islands whose hosts have only 169.254/16 and fe80 addresses (`--link-local`).
    public var linkLocal: Set<Int>
    /// Islands with no IPv4 on their link (`--ipv6-only`): their hosts, the router's leg
    /// there and their gateway hosts' uplink legs have IPv6 addresses only, and the router
    /// routes them over IPv6. `Testbed.address(of:)` gives "-" as their IPv4 address.
    public var ipv6Only: Set<Int>
    /// The router runs dbus and avahi-daemon too, on every island's link (`--router-avahi`):
    /// one box on many links, for z2zd's router mode (`.router` then has its own /run).
    public var routerAvahi: Bool

    public init(
        samePrefix: Bool = false, uplink: Bool = false, gateways: Int = 1,
        masqueraded: Set<Int> = [], linkLocal: Set<Int> = [], ipv6Only: Set<Int> = [], routerAvahi: Bool = false
    ) {
        self.samePrefix = samePrefix
        self.uplink = uplink
        self.gateways = gateways
        self.masqueraded = masqueraded
        self.linkLocal = linkLocal
        self.ipv6Only = ipv6Only
        self.routerAvahi = routerAvahi
    }

    /// Every island on one router, which routes unicast between them (the default).
    public static let routed = Topology()

    /// Whether the testbed has an uplink segment (gateway hosts' legs, NAT routers' outsides).
    public var hasUplink: Bool { uplink || !masqueraded.isEmpty }

    /// `Deploy/testbed up`'s options for this topology (none for `routed`).
    public var arguments: [String] {
        var arguments: [String] = (samePrefix ? ["--same-prefix"] : []) + (uplink ? ["--uplink"] : [])
        if uplink && gateways != 1 { arguments += ["--gateways", "\(gateways)"] }
        for (option, islands) in [("--masquerade", masqueraded), ("--link-local", linkLocal), ("--ipv6-only", ipv6Only)] {
            arguments += islands.sorted().flatMap { [option, "\($0)"] }
        }
        if routerAvahi { arguments.append("--router-avahi") }
        return arguments
    }

    public var description: String { arguments.isEmpty ? "routed" : arguments.joined(separator: " ") }
}
