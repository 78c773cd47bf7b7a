import DNSSD
import Foundation
import Gateway
import Island
import Primitives
import LocalDomain
import Rendezvous
import SIP
import Z2ZAPI

/// `z2z status`, `islands`, `peers`, `services` and `sip` as pure functions of the machine's
/// view and what the rendezvous reports of itself (its statistics, the DHT node's table).
/// Verdicts are the machine's gate's; counts are the machine's own tables.
public enum StatusReport {
    /// `refused`: imports avahi-daemon refused (the driver tries them again); they count as
    /// refused, not imported, and keep the health degraded.
    /// `advertRefusal`: why avahi-daemon refuses the gateway's own advert, while it does.
    public static func status(_ view: GatewayView, stats: RendezvousStats, network: String, uptime: Double,
                              refused: [ImportKey: ImportRefusal] = [:], advertRefusal: String? = nil) -> StatusResponse {
        let relayed = view.imports.values.reduce(into: [String: Int]()) { counts, imported in
            if let reason = imported.relayed { counts[reason.rawValue, default: 0] += 1 }
        }
        let refusedImports = refused.keys.filter { view.imports[$0] != nil }.count
        let services = ServiceCounts(local: view.hostServices.count, imported: view.imports.count - refusedImports,
                                     exported: view.exports.count, relayed: relayed, refused: refusedImports,
                                     capped: view.cappedExports.count)
        return StatusResponse(
            nodeID: "\(view.node)", network: network, island: island(view), role: GatewayRole(rawValue: view.role.rawValue),
            leaderID: view.leader.map { "\($0)" }, stage: Z2ZAPI.Stage(rawValue: view.stage.rawValue),
            overlayID: stats.overlayID.map { String($0, radix: 16) }, peerCount: view.peers.count + stats.peers,
            services: services, uptimeSeconds: uptime, avahi: avahi(view.responder), health: health(view, stats, refused: refused, advertRefusal: advertRefusal))
    }

    /// Every island known, this one first: the directory entry of each one's current leader
    /// (a leader killed with SIGKILL leaves its entry behind until it expires).
    public static func islands(_ view: GatewayView) -> [IslandInfo] {
        var islands: [IslandInfo] = []
        if let local = view.island {
            islands.append(IslandInfo(id: "\(local)", name: view.islandName, isLocal: true, leaderID: view.leader.map { "\($0)" },
                                      serviceCount: view.exports.count))
        }
        for entry in view.otherIslands {
            islands.append(IslandInfo(id: "\(entry.island)", name: entry.name, leaderID: "\(entry.leader)", serviceCount: entry.services))
        }
        return islands
    }

    /// The island's other gateways, then (a leader's) other islands' leaders among the DHT
    /// node's contacts, with the node's smoothed round-trip time (the table keeps no
    /// per-contact RTT) and their failures as the state.
    public static func peers(_ view: GatewayView, dht: DHTResponse?) -> [PeerInfo] {
        let here = island(view)
        var peers = view.peers.map { peer in
            PeerInfo(id: "\(peer.id)", endpoint: "\(peer.endpoint)", kind: .islandGateway,
                     role: GatewayRole(rawValue: peer.role.rawValue), island: peer.island.map { IslandRef(id: "\($0)") } ?? here,
                     state: peer.lastHeard == nil ? .suspect : .alive)
        }
        guard view.role == .leader, let dht else { return peers }
        let leaders = Dictionary(view.directoryLeaders.map { ("\($0.key)", $0.value) }, uniquingKeysWith: { first, _ in first })
        for contact in dht.routingTable where !peers.contains(where: { $0.id == contact.id }) {
            let entry = leaders[contact.id]
            peers.append(PeerInfo(
                id: contact.id, endpoint: contact.endpoint, kind: .remoteLeader, role: entry == nil ? nil : .leader,
                island: entry.map { IslandRef(id: "\($0.island)", name: $0.name.isEmpty ? nil : $0.name) },
                rttMilliseconds: dht.rttMilliseconds, state: contact.failures == 0 ? .alive : .suspect))
        }
        return peers
    }

    /// Local services with their export verdict, then imports with their import verdict and
    /// their route: published (direct or relayed), or held back as unreachable — an import
    /// an operator expects and does not get. Imports held by the policy are not listed.
    /// `refused`: imports avahi-daemon refused; their route says so.
    public static func services(_ view: GatewayView, refused: [ImportKey: ImportRefusal] = [:]) -> [ServiceJSON] {
        let here = island(view)
        var services = view.hostServices.map { service in
            var json = ServiceJSON(service)
            json.origin = .local
            json.island = here
            json.policy = PolicyVerdict(view.exportVerdict(service))
            if view.cappedExports.contains(service.id) { json.route = ImportRoute(cappedAt: view.exportsPerType) }
            return json
        }
        var imports: [(key: ImportKey, json: ServiceJSON)] = view.imports.map { key, imported in
            var json = service(imported, key: key, view)
            if let refusal = refused[key] { json.route = ImportRoute(refused: refusal) }
            return (key, json)
        }
        for key in view.received where view.imports[key] == nil {
            guard let hold = view.held(key), let route = ImportRoute(held: hold), let record = receivedRecord(key, view) else { continue }
            var json = ServiceJSON(
                name: record.name.value, type: record.type.description, host: "", port: record.port,
                txt: txt(record.txt), subtypes: record.subtypes.map(\.label),
                addresses: record.addresses.map { .init(address: $0.description, interface: "n/a") },
                origin: .imported, island: IslandRef(id: "\(key.island)", name: record.islandName), route: route)
            json.policy = PolicyVerdict(view.importVerdict(record))
            imports.append((key, json))
        }
        return services + imports.sorted { "\($0.key)" < "\($1.key)" }.map(\.json)
    }

    /// An import as this link has it: its publication (the addresses and port a client here
    /// connects to: the service's own, or this leader's relay), its import verdict and its route.
    static func service(_ imported: ImportPlanner.Imported, key: ImportKey, _ view: GatewayView) -> ServiceJSON {
        let record = imported.record
        let publication = imported.publication
        var host = ""
        var addresses = record.addresses
        if case .synthesized(let name, let published) = publication.host { (host, addresses) = (name.value, published) }
        return ServiceJSON(
            name: publication.name.value, type: publication.type.description, domain: publication.domain.value, host: host,
            port: publication.port, txt: txt(publication.txt), subtypes: publication.subtypes.map(\.label),
            addresses: addresses.map { .init(address: $0.description, interface: "n/a") },
            local: true, ourOwn: true, origin: .imported, island: IslandRef(id: "\(key.island)", name: record.islandName),
            policy: PolicyVerdict(view.importVerdict(record)),
            route: ImportRoute(imported))
    }

    /// The value a held instance came as: its island's current leader's, else the first owner's.
    static func receivedRecord(_ key: ImportKey, _ view: GatewayView) -> ServiceRecord? {
        let values = view.received(key)
        let leader = view.otherIslands.first { $0.island == key.island }?.leader
        return values.first { $0.key.owner == leader }?.value ?? values.min { $0.key < $1.key }?.value
    }

    static func txt(_ record: TXTRecord) -> [ServiceJSON.TXT] {
        record.entries.map { .init(key: $0.key, value: $0.value.map { Data($0).base64EncodedString() }, text: $0.text) }
    }

    /// SIP user agents on this link and imported from other islands, by address of record.
    public static func sipAgents(_ view: GatewayView) -> [SIPAgentInfo] {
        let here = island(view)
        var sources: [(ServiceInstance, IslandRef)] = []
        if view.isLeading {
            sources += view.hostServices.map { ($0.instance, here) }
            sources += view.imports.values.map {
                (SIPDirectory.instance(of: $0), IslandRef(id: "\($0.record.island)", name: $0.record.islandName))
            }
        } else {
            // A follower knows its link: imports show as services on synthesized hosts.
            sources += view.linkServices.map {
                ($0.instance, SynthesizedHost.isSynthesized($0.instance.host) ? IslandRef(id: nil) : here)
            }
        }
        return sources.compactMap { instance, island -> SIPAgentInfo? in
            guard SIPAnnouncement.isSIPServiceType(instance.type),
                  let announcement = try? SIPAnnouncement(service: instance) else { return nil }
            return SIPAgentInfo(addressOfRecord: "\(announcement.uri)", instance: instance.name.value,
                                type: instance.type.description, island: island,
                                contacts: announcement.contacts(for: instance).map { "\($0.uri)" })
        }.sorted { ($0.addressOfRecord, $0.instance) < ($1.addressOfRecord, $1.instance) }
    }

    // MARK: pieces

    static func island(_ view: GatewayView) -> IslandRef {
        IslandRef(id: view.island.map { "\($0)" }, name: view.configuredIslandName)
    }

    static func avahi(_ connection: ConnectionState) -> AvahiStatus {
        switch connection {
        case .running: AvahiStatus(state: .connected)
        case .connecting(let detail): AvahiStatus(state: .connecting, detail: detail)
        case .unavailable(let detail): AvahiStatus(state: .unavailable, detail: detail)
        }
    }

    static func health(_ view: GatewayView, _ stats: RendezvousStats, refused: [ImportKey: ImportRefusal] = [:],
                       advertRefusal: String? = nil) -> Health {
        var reasons: [String] = []
        if let advertRefusal {
            reasons.append("avahi-daemon refuses this gateway's advert (\(advertRefusal)), so the link's other gateways cannot find it; retried with backoff")
        }
        switch view.responder {
        case .running: break
        case .connecting(let detail): reasons.append("avahi-daemon: connecting (\(detail))")
        case .unavailable(let detail): reasons.append("avahi-daemon unavailable: \(detail)")
        }
        if view.leader == nil { reasons.append("no leader elected yet") }
        if view.role == .leader, stats.peers == 0 {
            reasons.append("no other island reached (give a --bootstrap address of another island's gateway)")
        }
        if let type = view.cappedExports.map(\.type).min() {
            let count = view.cappedExports.count
            reasons.append("\(count) service\(count == 1 ? "" : "s") not exported: more than \(view.exportsPerType) of one type (first: \(type)), the most the DHT holds from one island")
        }
        let refusedImports = refused.filter { view.imports[$0.key] != nil }
        if let (key, first) = refusedImports.min(by: { $0.key < $1.key }) {
            reasons.append("\(refusedImports.count) import\(refusedImports.count == 1 ? "" : "s") refused by avahi-daemon, retried with backoff (first: \(key.name.value).\(key.type): \(first.reason))")
        }
        return reasons.isEmpty ? .ok : Health(state: .degraded, reasons: reasons)
    }
}
