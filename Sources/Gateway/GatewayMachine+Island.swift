import DNSSD
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous
import SIP

/// The island side: the gateway's advert, the election's inputs and outputs, and what a
/// change of role starts or stops.
extension GatewayMachine {
    /// "z2z gateway 1a2b3c4d5e6f": short ASCII from our own id, always a valid name.
    var advert: Publication {
        guard let name = try? InstanceName("z2z gateway \(String(settings.id.description.prefix(12)))") else {
            preconditionFailure("a 24-byte ASCII name is valid")
        }
        let txt = GatewayAdvert(id: settings.id, priority: settings.priority, port: settings.port, network: settings.network).txt
        return Publication(name: name, type: GatewayAdvert.serviceType, port: settings.port, txt: txt)
    }

    /// `_z2z._udp` services on the link are other gateways: feed them to the election.
    mutating func electionInput(from event: LocalDomainEvent, now: Instant) -> [Effect] {
        switch event {
        case .added(let service), .changed(let service):
            guard service.instance.type == GatewayAdvert.serviceType else { return [] }
            guard case .success(let advert) = GatewayAdvert.parse(service.instance.txt) else {
                return [.fact(.rejected(reason: "advert_malformed", detail: "\(service.id)"))]
            }
            guard advert.network == settings.network, advert.id != settings.id else { return [] }
            guard let address = Self.bestAddress(service) else { return [] }
            advertisers[service.id] = advert.id
            return electionEffects(election.handle(.advertised(advert.id, Endpoint(address: address, port: advert.port),
                                                                priority: advert.priority), now: now))
        case .removed(let id):
            guard let peer = advertisers.removeValue(forKey: id) else { return [] }
            return electionEffects(election.handle(.withdrawn(peer), now: now))
        default:
            return []
        }
    }

    /// The address to send heartbeats to: a routable IPv4 address first, then any IPv4, then a
    /// routable IPv6 one (all an IPv6-only island's adverts have). The DHT socket they leave
    /// from is dual-stack (`Wildcard`), so each of these is reachable; an IPv6 link-local
    /// address is not (an endpoint has no interface to scope it).
    static func bestAddress(_ service: DiscoveredService) -> Endpoint.Address? {
        let addresses = service.instance.addresses
        let ranked = addresses.filter { $0.isIPv4 && $0.isRoutable } + addresses.filter { $0.isIPv4 && !$0.isRoutable }
            + addresses.filter { !$0.isIPv4 && $0.isRoutable }
        guard let best = ranked.first else { return nil }
        switch best {
        case .v4(let value): return .v4(value)
        case .v6(let high, let low): return .v6(high, low)
        }
    }

    mutating func electionEffects(_ outputs: [Election.Output]) -> [Effect] {
        var effects: [Effect] = []
        for output in outputs {
            switch output {
            case .send(let beat, let endpoint):
                effects.append(.sendHeartbeat(HeartbeatCodec.encode(beat, key: settings.networkKey), to: endpoint))
            case .changed(let transition):
                effects.append(.fact(.transition(transition)))
                effects += exportEffects(export.identify(island: transition.island, name: islandName))
                effects += importEffects(imports.identify(island: transition.island, name: islandName))
                effects += roleChanged(transition)
            }
        }
        return effects
    }

    mutating func roleChanged(_ transition: Election.Transition) -> [Effect] {
        var effects: [Effect] = []
        if let island = transition.island, island != persistedIsland {
            persistedIsland = island
            effects.append(.persistIsland(island))
        }
        let leading = transition.role == .leader
        if leading, !export.isActive, let island = transition.island {
            effects.append(.joinRendezvous)
            effects.append(.subscribe(RecordKeys.directory(network: settings.network)))
            effects += exportEffects(export.activate(island: island, name: islandName))
            effects += importEffects(imports.activate(localIsland: island))
            effects += publishDirectory()
        } else if !leading, export.isActive {
            effects += exportEffects(export.deactivate())
            effects += importEffects(imports.deactivate())
            if publishedDirectory != nil {
                effects.append(.remove(RecordKeys.directory(network: settings.network), valueID: 0))
                publishedDirectory = nil
            }
            effects.append(.unsubscribe(RecordKeys.directory(network: settings.network)))
            for type in subscribedTypes.sorted() { effects.append(.unsubscribe(RecordKeys.type(type, network: settings.network))) }
            subscribedTypes = []
            directory = [:]
            directoryArrivals = [:]
            seededGateways = []
            effects.append(.leaveRendezvous)
        }
        return effects
    }
}
