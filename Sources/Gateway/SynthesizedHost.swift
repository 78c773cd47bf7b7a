import DNSSD
import Island
import LocalDomain

/// Host names a gateway makes up for the services it imports: `<label>-z2z-<island>.local`,
/// e.g. `printer-z2z-0a1b2c3d.local` for host `printer` of island `0a1b2c3d…`, and
/// `printer-relay-z2z-0a1b2c3d.local` for those of its services that are relayed.
///
/// The marker is how every gateway recognizes what a gateway published — on this island or
/// any other, by the current leader or a former one, or copied by an Avahi reflector
/// (which keeps host names) — and so never exports it again: loops are impossible by
/// construction, with the TXT record left untouched.
extension DiscoveredService {
    /// Published by a host on the link, not by a gateway: neither this gateway's own
    /// publication (Avahi's OUR_OWN flag) nor any gateway's import (synthesized host name).
    public var isPublishedByAHost: Bool {
        !origin.contains(.ourOwn) && !SynthesizedHost.isSynthesized(instance.host)
    }
}

public enum SynthesizedHost {
    static let marker = "-z2z-"
    /// Before the marker in the names of relayed imports' hosts: `printer-relay-z2z-0a1b2c3d.local`.
    static let relayMarker = "-relay"

    /// The host name for services of `island` running on a host whose first label is `label`.
    /// With `relayed`, the name for those of its services imported through the relay: they
    /// are published on this leader's addresses, not the host's, so they need a host of their
    /// own — sharing one, a direct import of the same host would resolve to the relay too.
    public static func name(label: String, island: IslandID, relayed: Bool = false, domain: DomainName = .local) -> HostName {
        let tag = (relayed ? relayMarker : "") + marker + String(island.description.prefix(8))
        var kept = ""
        for character in label where character != "." {
            guard kept.utf8.count + character.utf8.count + tag.utf8.count <= 63 else { break }
            kept.append(character)
        }
        if kept.isEmpty { kept = "host" }
        return (try? HostName("\(kept)\(tag).\(domain.value)")) ?? domain
    }

    /// True when a host name was made by a z2z gateway.
    public static func isSynthesized(_ host: HostName) -> Bool {
        guard let first = host.labels.first, first.count > 8 + marker.count else { return false }
        let tag = first.suffix(8)
        return first.dropLast(8).hasSuffix(marker) && tag.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
