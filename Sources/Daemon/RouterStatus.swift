import DNSSD
import Foundation
import Gateway
import GatewayReports
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous
import Z2ZAPI

/// A router (router mode) as the local API sees it: its links, each an island, with the
/// services seen on each and those published on each for the others — read from one
/// `LinkRouter` snapshot, never decided again — and, from each link's gateway towards the
/// rest of the network (`LinkGateway`), what it exported, imported onto its link and which
/// peers it has, read from its driver's snapshot.
public final class RouterStatus: GatewayStateSource {
    /// A link's gateway as the reports read it.
    public struct LinkGatewaySource: Sendable {
        public var link: String
        public var driver: GatewayDriver
        /// Its DHT node (peers, stored values, explain's lookups); nil in tests.
        public var rendezvous: (any Rendezvous)?
        public var port: UInt16

        public init(link: String, driver: GatewayDriver, rendezvous: (any Rendezvous)? = nil, port: UInt16) {
            self.link = link
            self.driver = driver
            self.rendezvous = rendezvous
            self.port = port
        }
    }

    /// One link gateway read at one moment: its machine's view and its DHT node's statistics.
    struct LinkGatewayState: Sendable {
        var link: String
        var snapshot: GatewayDriver.Snapshot
        var stats: RendezvousStats?
        var port: UInt16
        var view: GatewayView { snapshot.view }
    }

    private let router: LinkRouter
    private let nodeID: String
    private let network: String
    private let gatewayMetrics: GatewayMetrics?
    /// Each link's gateway, in the links' order.
    private let gateways: [LinkGatewaySource]
    private let explainTimeout: Duration

    public init(router: LinkRouter, nodeID: String, network: String, metrics: GatewayMetrics? = nil,
                gateways: [LinkGatewaySource] = [], explainTimeout: Duration = .seconds(3)) {
        self.router = router
        self.nodeID = nodeID
        self.network = network
        gatewayMetrics = metrics
        self.gateways = gateways
        self.explainTimeout = explainTimeout
    }

    /// The link gateways, in the links' order.
    private func gatewayStates() async -> [LinkGatewayState] {
        var states: [LinkGatewayState] = []
        for gateway in gateways {
            states.append(LinkGatewayState(link: gateway.link, snapshot: await gateway.driver.snapshot(),
                                           stats: await gateway.rendezvous?.stats(), port: gateway.port))
        }
        return states
    }

    public func status() async -> StatusResponse {
        Self.status(await router.snapshot(), gateways: await gatewayStates(), nodeID: nodeID, network: network)
    }

    /// The router as one gateway: its links (`links`), with the counts summed over the
    /// exchange and the link gateways; it leads while any link gateway leads (else it
    /// follows while any follows), and its stage is the least advanced of the leading link
    /// gateways' (they are the ones the rest of the network meets).
    static func status(_ snapshot: LinkRouter.Snapshot, gateways: [LinkGatewayState], nodeID: String, network: String) -> StatusResponse {
        let links = links(snapshot, gateways: gateways)
        let down = links.filter { $0.avahi.state != .connected }.map { "avahi not connected on link \($0.name)" }
        var reasons = down
        for (link, refused) in zip(snapshot.exchange.links, snapshot.refused) {
            guard let (key, reason) = refused.min(by: { $0.key < $1.key }) else { continue }
            reasons.append("\(refused.count) publication\(refused.count == 1 ? "" : "s") refused by avahi-daemon on link \(link.name), retried with backoff (first: \(key.name.value).\(key.type): \(reason))")
        }
        let names = snapshot.exchange.links.map(\.name).joined(separator: ", ")
        let counts = ServiceCounts(local: links.reduce(0) { $0 + $1.local },
                                   imported: links.reduce(0) { $0 + $1.imported + ($1.gateway?.imported ?? 0) },
                                   exported: links.reduce(0) { $0 + ($1.gateway?.exported ?? 0) })
        let roles = gateways.map(\.view.role)
        let role: GatewayRole = gateways.isEmpty || roles.contains(.leader) ? .leader : roles.contains(.follower) ? .follower : .candidate
        let order: [Primitives.Stage] = [.bootstrapping, .interconnection, .merging, .structure]
        let leading = gateways.filter { $0.view.role == .leader }.map(\.view.stage)
        let stage = leading.min { (order.firstIndex(of: $0) ?? 0) < (order.firstIndex(of: $1) ?? 0) }
            .map { Z2ZAPI.Stage(rawValue: $0.rawValue) } ?? (gateways.isEmpty ? .interconnection : .bootstrapping)
        var status = StatusResponse(
            nodeID: nodeID, network: network, island: IslandRef(id: nil, name: "router: \(names)"), role: role,
            leaderID: role == .leader ? nodeID : nil, stage: stage, overlayID: nil,
            peerCount: links.reduce(0) { $0 + ($1.gateway?.peerCount ?? 0) }, services: counts,
            uptimeSeconds: snapshot.started.duration(to: .now).seconds,
            avahi: down.isEmpty ? AvahiStatus(state: .connected) : AvahiStatus(state: .connecting, detail: down.joined(separator: "; ")),
            health: reasons.isEmpty ? .ok : Health(state: .degraded, reasons: reasons))
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
        await gatewayStates().flatMap { StatusReport.peers($0.view, dht: nil) }
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
        for gateway in await gatewayStates() {
            for var json in StatusReport.services(gateway.view) where json.origin == .imported {
                json.link = gateway.link
                services.append(json)
            }
        }
        return services
    }

    public func events(after sequence: UInt64) async -> EventsResponse { await router.events(after: sequence) }

    /// The crossings between links (the exchange), then each link gateway's side: the link's
    /// services towards the DHT and other islands' services onto the link, as an ordinary
    /// gateway explains them (with its DHT node's answer), each verdict naming the link.
    public func explain(_ query: String) async -> ExplainResponse {
        var answer = LinkExplainer.explain(query, await router.snapshot().exchange)
        var dhtTraces: [ServiceTrace] = []
        for gateway in gateways {
            let snapshot = await gateway.driver.snapshot()
            let explainer = ServiceExplainer(view: snapshot.view, events: snapshot.events)
            var answers: [ServiceType: ServiceExplainer.DHTAnswer] = [:]
            if let rendezvous = gateway.rendezvous, snapshot.view.isLeading {
                for type in explainer.types(for: query).prefix(8) {
                    answers[type] = await GatewayStatus.get(snapshot.view.typeKey(type), from: rendezvous, timeout: explainTimeout)
                }
            }
            dhtTraces += LinkExplainer.gatewayTraces(explainer.explain(query, dht: answers), link: gateway.link)
        }
        answer.traces += dhtTraces
        if !dhtTraces.isEmpty {
            let crossed = dhtTraces.filter(\.crossed).count
            answer.summary += "; through the DHT: \(crossed) of \(dhtTraces.count) crossed"
        }
        return answer
    }

    public func metrics() async -> String {
        guard let gatewayMetrics else { return "" }
        let states = await gatewayStates()
        let status = Self.status(await router.snapshot(), gateways: states, nodeID: nodeID, network: network)
        gatewayMetrics.scrape(status: status, dhtPeers: states.reduce(0) { $0 + ($1.stats?.peers ?? 0) },
                              storedValues: states.reduce(0) { $0 + ($1.stats?.storedValues ?? 0) })
        gatewayMetrics.scrape(links: status.links ?? [])
        return gatewayMetrics.exposition()
    }

    /// Each link: the exchange's side (its services, what crossed onto it, what the policy
    /// keeps off it, whether it is in the exchange) and its gateway's towards the DHT.
    static func links(_ snapshot: LinkRouter.Snapshot, gateways: [LinkGatewayState] = []) -> [LinkInfo] {
        snapshot.exchange.links.map { link in
            let avahi: AvahiStatus = switch snapshot.responders[link.index] {
            case .running: AvahiStatus(state: .connected)
            case .connecting(let why): AvahiStatus(state: .connecting, detail: why)
            case .unavailable(let why): AvahiStatus(state: .unavailable, detail: why)
            }
            return LinkInfo(name: link.name, interface: link.interface, island: "\(link.island)",
                            local: snapshot.exchange.services(on: link.index).count,
                            imported: snapshot.exchange.imported(on: link.index).count,
                            held: snapshot.exchange.held(on: link.index).count, avahi: avahi,
                            inExchange: snapshot.exchange.isLed(link.index),
                            gateway: gateways.indices.contains(link.index) ? gatewayInfo(gateways[link.index]) : nil)
        }
    }

    static func gatewayInfo(_ gateway: LinkGatewayState) -> LinkGatewayInfo {
        let view = gateway.view
        return LinkGatewayInfo(
            nodeID: "\(view.node)", role: GatewayRole(rawValue: view.role.rawValue), leaderID: view.leader.map { "\($0)" },
            island: view.island.map { "\($0)" }, stage: Z2ZAPI.Stage(rawValue: view.stage.rawValue),
            peerCount: view.peers.count + (gateway.stats?.peers ?? 0), imported: view.imports.count,
            exported: view.exports.count, port: Int(gateway.port))
    }
}
