/// One link of a router (`[[link]]`, `--link IFACE[=ISLAND]`): a network interface (a VLAN
/// interface too) that is an island of its own inside one z2zd. Services seen on one link
/// are published on the others, as the policy permits.
public struct LinkSettings: Hashable, Sendable, CustomStringConvertible {
    /// The interface name (`eth1`, `br-lan.20`), as `ip link` shows it.
    public var interface: String
    /// The island's name, for people, policy rules (`from`, `to`) and name-clash suffixes;
    /// nil: the interface name.
    public var island: String?

    public init(interface: String, island: String? = nil) {
        self.interface = interface
        self.island = island
    }

    /// The island name in force: the configured one, else the interface's.
    public var islandName: String { island ?? interface }

    /// `eth1=staff`, as the flag is written.
    public var description: String { island.map { "\(interface)=\($0)" } ?? interface }

    /// Reads `IFACE` or `IFACE=ISLAND` (the `--link` flag).
    static func parsing(_ text: String) throws(Invalid) -> LinkSettings {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let interface = try Validate.interfaceName(parts.first ?? "")
        guard parts.count == 2 else { return LinkSettings(interface: interface) }
        return LinkSettings(interface: interface, island: try Validate.islandName(parts[1]))
    }

    /// What is wrong with a set of links as a whole, one sentence each: router mode needs two
    /// links, on distinct interfaces, under distinct island names.
    static func problems(_ links: [LinkSettings]) -> [String] {
        guard !links.isEmpty else { return [] }
        var problems: [String] = []
        if links.count == 1 {
            problems.append("router mode needs at least two links; \(links[0].interface) alone is an ordinary gateway (remove the link)")
        }
        var interfaces: Set<String> = [], names: Set<String> = []
        for link in links {
            if !interfaces.insert(link.interface).inserted { problems.append("interface \(link.interface) is named by two links") }
            if !names.insert(link.islandName.lowercased()).inserted {
                problems.append("island name \"\(link.islandName)\" is given to two links; each link is an island of its own")
            }
        }
        return problems
    }
}
