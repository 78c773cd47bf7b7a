import API
import Avahi
import Config
import Foundation
import Gateway
import GatewayReports
import Island
import LocalDomain
import Logging
import Primitives
import ServiceLifecycle
import StateStore

/// Router mode (`[[link]]`, `--link`): one z2zd on a box with several LANs, each interface an
/// island of its own. One interface-scoped Avahi client set per link; the links exchange
/// records in process (`LinkExchange`, run by `LinkRouter`), and the local API reports the
/// links. Towards the rest of the network the box is also a gateway of each of its links
/// (`LinkGateway`: one election, export and import per link, through a DHT node per link),
/// so routers and ordinary z2zd boxes meet as before. Each link's Avahi domain is shared by
/// the exchange and that link's gateway (`LinkDomainTee`).
extension GatewayDaemon {
    func runRouter(_ config: GatewayConfiguration) async throws {
        let box: NodeID
        do {
            let store = try StateStore(directory: config.stateDirectory)
            box = try store.identity().id
        } catch {
            throw DaemonError.stateDirectory(config.stateDirectory, "\(error)")
        }
        // Goodbyes and first announcements z2zd says itself (`LinkRouter`, `AvahiDomain.Options.announcer`).
        let sender = MDNSSender(logger: Logger(label: "z2z.router"))
        // Per link: Avahi on that interface only, and a listener reading goodbyes off it.
        // avahi-daemon ignores a host's goodbye for records equal to one of its own entries
        // on any interface — our import of that service on the other links — so removals
        // come from the wire, and stand until the service is heard announced again.
        var domains: [GoodbyeAwareDomain] = []
        var listeners: [MDNSListener] = []
        var interfaces: [InterfaceIndex] = []
        for link in config.links {
            let index = if_nametoindex(link.interface)
            guard index > 0 else { throw DaemonError.link(link.interface, "no such interface (ip link shows the names)") }
            let avahi: AvahiDomain
            do {
                let interface = InterfaceIndex(index)
                // Resolved once, kept current by what the listener hears: no queries at rest.
                avahi = try AvahiDomain(options: .init(scope: .allTypes, interface: interface,
                                                       announcer: { sender.send(ipv4: $0, ipv6: $1, on: interface) },
                                                       upkeep: .onChange),
                                        logger: Logger(label: "z2z.avahi.\(link.islandName)"))
            } catch {
                throw DaemonError.link(link.interface, "\(error)")
            }
            interfaces.append(InterfaceIndex(index))
            let listener = MDNSListener(logger: Logger(label: "z2z.mdns.\(link.islandName)"), interface: InterfaceIndex(index))
            listeners.append(listener)
            domains.append(GoodbyeAwareDomain(wrapping: avahi, goodbyes: listener.goodbyes, types: listener.types,
                                              announcements: listener.announcements, records: listener.records,
                                              confirmation: nil))
        }
        let nodeID = "\(box)"
        // No link is the exchange's until its gateway leads it (`LinkExchange.setLed`).
        let exchange = LinkExchange(links: config.links.map { (name: $0.islandName, interface: $0.interface) }, box: box,
                                    policy: config.policy, led: false)
        let transitions = AsyncStream.makeStream(of: (link: Int, transition: Election.Transition).self)
        let metrics = GatewayMetrics()
        let linkInterfaces = interfaces
        // Branch 0 of each link: the exchange (it says its own goodbyes); branch 1: the link's gateway.
        let tees = domains.indices.map { link in
            LinkDomainTee(domains[link], goodbyes: [nil, { bytes in sender.send(bytes, on: linkInterfaces[link]) }])
        }
        let gateways = try linkGateways(config, links: exchange.links, domains: tees.map { $0.branches[1] }, metrics: metrics,
                                        transition: { transitions.continuation.yield(($0, $1)) })
        let router = LinkRouter(exchange: exchange, domains: tees.map { $0.branches[0] }, onEvent: { metrics.observe($0) },
                                sendGoodbye: { link, bytes in sender.send(bytes, on: linkInterfaces[link]) },
                                logger: Logger(label: "z2z.router"))
        let status = RouterStatus(router: router, nodeID: nodeID, network: config.network, metrics: metrics,
                                  gateways: gateways.map {
                                      RouterStatus.LinkGatewaySource(link: $0.link.name, driver: $0.driver, rendezvous: $0.rendezvous,
                                                                     port: $0.port)
                                  })
        let logger = self.logger
        let api = APIServer(listen: config.api.listen, source: status, configuration: configuration,
                            checker: ConfigCheckerProcess(logger: Logger(label: "z2z.api")),
                            logger: Logger(label: "z2z.api")) { port in
            logger.info("API listening", metadata: ["address": "\(config.api.listen.hostText):\(port)"])
        }
        let service = RouterService(router: router, domains: domains, tees: tees, listeners: listeners, gateways: gateways,
                                    transitions: transitions.stream, logger: Logger(label: "z2z.router"))
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service), .init(service: api)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "z2z.lifecycle")))
        let configuration = self.configuration
        let reload = SignalHandler(signal: SIGHUP) {
            guard self.reload() else { return }
            let policy = configuration.current.policy
            let seeds = Self.resolve(configuration.current.dht.bootstrap, logger: logger)
            for gateway in gateways { gateway.rendezvous.addSeeds(seeds) }
            Task {
                await router.setPolicy(policy)
                for gateway in gateways { await gateway.driver.setPolicy(policy) }
            }
        }
        defer { reload.cancel() }
        logger.info("z2zd starting in router mode", metadata: [
            "node": "\(nodeID)", "links": "\(config.links.map(\.description).joined(separator: ","))",
            "bootstrap": "\(config.dht.bootstrap.map(\.description).joined(separator: ","))",
        ])
        try await group.run()
        logger.info("z2zd stopped")
    }
}

/// The router's links as one service: on graceful shutdown the router withdraws what it
/// published (goodbyes on every link) and each link's gateway says its goodbyes (removes its
/// exports from the DHT, withdraws its imports), side by side; then the links' Avahi
/// clients close.
struct RouterService: Service {
    let router: LinkRouter
    let domains: [GoodbyeAwareDomain]
    let tees: [LinkDomainTee]
    let listeners: [MDNSListener]
    let gateways: [LinkGateway]
    /// The link gateways' elections, as they change (`GatewayDriver.Hooks.transition`).
    let transitions: AsyncStream<(link: Int, transition: Election.Transition)>
    let logger: Logger

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for domain in domains { group.addTask { await domain.run() } }
            for tee in tees { group.addTask { await tee.run() } }
            for listener in listeners {
                group.addTask {
                    await listener.run()
                    await untilCancelled()
                }
            }
            group.addTask { await followLeadership() }
            await withTaskGroup(of: Void.self) { parts in
                parts.addTask { await cancelWhenGracefulShutdown { await router.run() } }
                for gateway in gateways { parts.addTask { await gateway.run(logger: logger) } }
            }
            for domain in domains { await domain.shutdown() }
            group.cancelAll()
        }
    }

    /// Each link is the exchange's while its gateway leads it, and each gateway leaves the
    /// islands of the box's other led links to the exchange: exactly one of the two paths —
    /// in process, or through the DHT where another gateway leads a link — carries a service
    /// onto a link.
    private func followLeadership() async {
        var leading = [IslandID?](repeating: nil, count: gateways.count)
        for await (link, transition) in transitions {
            guard leading.indices.contains(link) else { continue }
            let now: IslandID? = transition.role == .leader ? transition.island : nil
            guard now != leading[link] else { continue }
            leading[link] = now
            let siblings = LinkExchange.siblingIslands(leading: leading)
            for (index, gateway) in gateways.enumerated() { await gateway.driver.setSiblingIslands(siblings[index]) }
            await router.setLed(link, now != nil)
        }
    }
}
