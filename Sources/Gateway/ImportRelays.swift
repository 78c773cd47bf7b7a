import DNSSD
import Island
import Policy
import Primitives

/// Where the daemon reaches an exporting leader's relay for one import.
public struct RelaySource: Hashable, Sendable {
    /// The exporting leader (the owner of the record's value): the relay's host key must be its.
    public var leader: NodeID
    /// Where its relay listens (`RelayOffer.endpoints`).
    public var endpoints: [Endpoint]
    public var island: IslandID
    public var type: ServiceType
    public var name: InstanceName
}

/// What the import side asks the daemon to do for the relay.
public enum RelayEffect: Hashable, Sendable {
    /// A bounded TCP connect to these addresses at `port`; answer with `probed`.
    case probe(ImportKey, [IPAddress], port: UInt16)
    /// Open a relay listener for this import (a port on this leader's LAN addresses) that
    /// forwards to `source`; answer with `relayOpened` or `relayFailed`.
    case openRelay(ImportKey, RelaySource)
    case closeRelay(ImportKey)
}

/// The import side of the relay (issue 14), pure: per import, how it reaches its service
/// (`RelayDecision`), the probes asked and answered, and the relay listeners the daemon
/// opened. `ImportPlanner` asks it how to publish an import.
struct ImportRelays: Sendable {
    /// How an import is published now.
    enum Resolution: Hashable {
        /// On these addresses and this port: the service's own, or this leader's relay port.
        case publish([IPAddress], port: UInt16, relayed: RelayReason?)
        /// Not yet: a probe or a relay listener is on its way.
        case wait
        case unusable(String)
    }

    var mode = RelayMode.off
    /// This island's LAN prefixes (the overlap check).
    var localPrefixes: [IPPrefix] = []
    /// This leader's own LAN addresses: a relayed import is published on them.
    var leaderAddresses: [IPAddress] = []
    private var probes: [ImportKey: Bool] = [:]
    private var asked: Set<ImportKey> = []
    /// Relay listeners requested, by import, with where they forward; and their ports once open.
    private var relays: [ImportKey: RelaySource] = [:]
    private var ports: [ImportKey: UInt16] = [:]
    private var failed: [ImportKey: String] = [:]

    /// How to publish `record` (held under the slot of `owner`), and what to ask the daemon first.
    mutating func resolve(_ key: ImportKey, _ record: ServiceRecord, owner: NodeID) -> (Resolution, [RelayEffect]) {
        // Until this island's LAN is known the overlap check cannot be made: a service on the
        // same 192.168.1.0/24 would be published with an address naming a host of this LAN.
        if mode != .off, localPrefixes.isEmpty { return (.wait, []) }
        let path = RelayDecision.path(mode: mode, addresses: record.addresses, type: record.type, offer: record.relay,
                                      localPrefixes: localPrefixes, probe: probes[key])
        switch path {
        case .direct:
            return (.publish(record.addresses.filter(\.isRoutable), port: record.port, relayed: nil), close(key))
        case .unusable(let why):
            return (.unusable(why), close(key))
        case .probe(let addresses):
            guard asked.insert(key).inserted else { return (.wait, []) }
            return (.wait, [.probe(key, addresses, port: record.port)])
        case .relayed(let reason):
            let source = RelaySource(leader: owner, endpoints: record.relay?.endpoints ?? [], island: record.island,
                                     type: record.type, name: record.name)
            if let why = failed[key], relays[key] == source { return (.unusable("the relay failed: \(why)"), []) }
            guard relays[key] == source else {
                let closing = relays[key] == nil ? [] : close(key)
                relays[key] = source
                return (.wait, closing + [.openRelay(key, source)])
            }
            guard let port = ports[key] else { return (.wait, []) }
            guard !leaderAddresses.isEmpty else { return (.unusable("this leader has no LAN address to relay on"), []) }
            return (.publish(leaderAddresses, port: port, relayed: reason), [])
        }
    }

    /// The daemon's probe answered.
    mutating func probed(_ key: ImportKey, reachable: Bool) {
        guard asked.contains(key) else { return }
        probes[key] = reachable
    }

    /// The daemon opened the relay listener for `key` on `port`.
    mutating func opened(_ key: ImportKey, port: UInt16) {
        guard relays[key] != nil else { return }
        ports[key] = port
        failed[key] = nil
    }

    /// The daemon could not open it.
    mutating func failed(_ key: ImportKey, reason: String) {
        guard relays[key] != nil else { return }
        failed[key] = reason
    }

    /// The import is gone: its probe answer is forgotten and its relay closed.
    mutating func forget(_ key: ImportKey) -> [RelayEffect] {
        probes[key] = nil
        asked.remove(key)
        return close(key)
    }

    private mutating func close(_ key: ImportKey) -> [RelayEffect] {
        failed[key] = nil
        ports[key] = nil
        return relays.removeValue(forKey: key) == nil ? [] : [.closeRelay(key)]
    }
}
