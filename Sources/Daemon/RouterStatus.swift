import DNSSD
import Foundation
import Gateway
import GatewayReports
import LocalDomain
import Policy
import Z2ZAPI

/// A router (router mode) as the local API sees it: its links, each an island, with the
/// services seen on each and those published on each for the others — read from one
/// `LinkRouter` snapshot, never decided again — and, from each link's gateway towards the
/// rest of the network (`LinkGateway`), what it exported, imported onto its link and which
/// peers it has, read from its driver's snapshot.
public final class RouterStatus: GatewayStateSource {
    private let router: LinkRouter
    private let nodeID: String
    private let network: String
    private let gatewayMetrics: GatewayMetrics?
    /// Each link's gateway (its link's name), in the links' order.
    private let gateways: [(link: String, driver: GatewayDriver)]

    public init(router: LinkRouter, nodeID: String, network: String, metrics: GatewayMetrics? = nil,
                gateways: [(link: String, driver: GatewayDriver)] = []) {
        self.router = router
        self.nodeID = nodeID
        self.network = network
        gatewayMetrics = metrics
        self.gateways = gateways
    }

    /// The link gateways' views, in the links' order.
    private func gatewayViews() async -> [(link: String, view: GatewayView)] {
        var views: [(link: String, view: GatewayView)] = []
        for gateway in gateways { views.append((gateway.link, await gateway.driver.snapshot().view)) }
        return views
    }

    public func status() async -> StatusResponse {
        let snapshot = await router.snapshot()
        let links = Self.links(snapshot)
        let down = links.filter { $0.avahi.state != .connected }.map { "avahi not connected on link \($0.name)" }
        let names = snapshot.exchange.links.map(\.name).joined(separator: ", ")
        let views = await gatewayViews()
        let counts = ServiceCounts(local: links.reduce(0) { $0 + $1.local },
                                   imported: links.reduce(0) { $0 + $1.imported } + views.reduce(0) { $0 + $1.view.imports.count },
                                   exported: views.reduce(0) { $0 + $1.view.exports.count })
        var status = StatusResponse(
            nodeID: nodeID, network: network, island: IslandRef(id: nil, name: "router: \(names)"), role: .leader,
            leaderID: nodeID, stage: .interconnection, overlayID: nil, peerCount: 0, services: counts,
            uptimeSeconds: snapshot.started.duration(to: .now).seconds,
            avahi: down.isEmpty ? AvahiStatus(state: .connected) : AvahiStatus(state: .connecting, detail: down.joined(separator: "; ")),
            health: down.isEmpty ? .ok : Health(state: .degraded, reasons: down))
        status.links = links
        return status
    }

    /// Each link as an island of its own.
    public func islands() async -> [IslandInfo] {
        let snapshot = await router.snapshot()
        return snapshot.exchange.links.map { link in
            IslandInfo(id: "\(link.island)", name: link.name, isLocal: true, leaderID: nodeID,
                       serviceCount: snapshot.exchange.services(on: link.index).count)
        }
    }

    /// The link gateways' fellow gateways on their links.
    public func peers() async -> [PeerInfo] {
        await gatewayViews().flatMap { StatusReport.peers($0.view, dht: nil) }
    }

    public func services() async -> [ServiceJSON] {
        let snapshot = await router.snapshot()
        let exchange = snapshot.exchange
        var services: [ServiceJSON] = []
        for link in exchange.links {
            let here = IslandRef(id: "\(link.island)", name: link.name)
            for service in exchange.services(on: link.index) {
                var json = ServiceJSON(service)
                json.origin = .local
                json.island = here
                json.link = link.name
                services.append(json)
            }
            for imported in exchange.imported(on: link.index) {
                let record = imported.record
                let publication = imported.publication
                var addresses: [IPAddress] = []
                var host = ""
                if case .synthesized(let name, let list) = publication.host { (host, addresses) = (name.value, list) }
                var json = ServiceJSON(
                    name: publication.name.value, type: publication.type.description, domain: publication.domain.value,
                    host: host, port: publication.port,
                    txt: publication.txt.entries.map {
                        ServiceJSON.TXT(key: $0.key, value: $0.value.map { Data($0).base64EncodedString() }, text: $0.text)
                    },
                    subtypes: publication.subtypes.map(\.label),
                    addresses: addresses.map { ServiceJSON.Address(address: $0.description, interface: link.interface) },
                    local: true, ourOwn: true, origin: .imported,
                    island: IslandRef(id: "\(record.island)", name: record.islandName),
                    policy: exchange.verdict(record, onto: link.index).map { PolicyVerdict($0) })
                json.link = link.name
                services.append(json)
            }
        }
        // What each link's gateway imported onto its link from islands beyond the box.
        for (link, view) in await gatewayViews() {
            for var json in StatusReport.services(view) where json.origin == .imported {
                json.link = link
                services.append(json)
            }
        }
        return services
    }

    public func events(after sequence: UInt64) async -> EventsResponse { await router.events(after: sequence) }

    public func explain(_ query: String) async -> ExplainResponse {
        LinkExplainer.explain(query, await router.snapshot().exchange)
    }

    public func metrics() async -> String {
        guard let gatewayMetrics else { return "" }
        let status = await status()
        gatewayMetrics.scrape(status: status, dhtPeers: 0, storedValues: 0)
        gatewayMetrics.scrape(links: status.links ?? [])
        return gatewayMetrics.exposition()
    }

    static func links(_ snapshot: LinkRouter.Snapshot) -> [LinkInfo] {
        snapshot.exchange.links.map { link in
            let avahi: AvahiStatus = switch snapshot.responders[link.index] {
            case .running: AvahiStatus(state: .connected)
            case .connecting(let why): AvahiStatus(state: .connecting, detail: why)
            case .unavailable(let why): AvahiStatus(state: .unavailable, detail: why)
            }
            return LinkInfo(name: link.name, interface: link.interface, island: "\(link.island)",
                            local: snapshot.exchange.services(on: link.index).count,
                            imported: snapshot.exchange.imported(on: link.index).count,
                            held: snapshot.exchange.held(on: link.index).count, avahi: avahi)
        }
    }
}
