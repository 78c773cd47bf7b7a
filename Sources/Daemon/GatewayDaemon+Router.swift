import API
import Avahi
import Config
import Foundation
import Gateway
import GatewayReports
import LocalDomain
import Logging
import ServiceLifecycle
import StateStore

/// Router mode (`[[link]]`, `--link`): one z2zd on a box with several LANs, each interface an
/// island of its own. One interface-scoped Avahi client set per link; the links exchange
/// records in process (`LinkExchange`, run by `LinkRouter`), and the local API reports the
/// links. This mode runs no DHT: the box is the one gateway between its links.
extension GatewayDaemon {
    func runRouter(_ config: GatewayConfiguration) async throws {
        let nodeID: String
        do {
            let store = try StateStore(directory: config.stateDirectory)
            nodeID = "\(try store.identity().id)"
        } catch {
            throw DaemonError.stateDirectory(config.stateDirectory, "\(error)")
        }
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
                avahi = try AvahiDomain(options: .init(scope: .allTypes, interface: InterfaceIndex(index)),
                                        logger: Logger(label: "z2z.avahi.\(link.islandName)"))
            } catch {
                throw DaemonError.link(link.interface, "\(error)")
            }
            interfaces.append(InterfaceIndex(index))
            let listener = MDNSListener(logger: Logger(label: "z2z.mdns.\(link.islandName)"), interface: InterfaceIndex(index))
            listeners.append(listener)
            domains.append(GoodbyeAwareDomain(wrapping: avahi, goodbyes: listener.goodbyes, types: listener.types,
                                              announcements: listener.announcements, confirmation: nil))
        }
        let exchange = LinkExchange(links: config.links.map { (name: $0.islandName, interface: $0.interface) }, policy: config.policy)
        let metrics = GatewayMetrics()
        let sender = GoodbyeSender(logger: Logger(label: "z2z.router"))
        let linkInterfaces = interfaces
        let router = LinkRouter(exchange: exchange, domains: domains, onEvent: { metrics.observe($0) },
                                sendGoodbye: { link, bytes in sender.send(bytes, on: linkInterfaces[link]) },
                                logger: Logger(label: "z2z.router"))
        let status = RouterStatus(router: router, nodeID: nodeID, network: config.network, metrics: metrics)
        let logger = self.logger
        let api = APIServer(listen: config.api.listen, source: status, configuration: configuration,
                            logger: Logger(label: "z2z.api")) { port in
            logger.info("API listening", metadata: ["address": "\(config.api.listen.hostText):\(port)"])
        }
        let service = RouterService(router: router, domains: domains, listeners: listeners)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service), .init(service: api)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "z2z.lifecycle")))
        let configuration = self.configuration
        let reload = SignalHandler(signal: SIGHUP) {
            guard self.reload() else { return }
            let policy = configuration.current.policy
            Task { await router.setPolicy(policy) }
        }
        defer { reload.cancel() }
        logger.info("z2zd starting in router mode", metadata: [
            "node": "\(nodeID)", "links": "\(config.links.map(\.description).joined(separator: ","))",
        ])
        try await group.run()
        logger.info("z2zd stopped")
    }
}

/// The router's links as one service: on graceful shutdown the router withdraws what it
/// published (goodbyes on every link), then the links' Avahi clients close.
struct RouterService: Service {
    let router: LinkRouter
    let domains: [GoodbyeAwareDomain]
    let listeners: [MDNSListener]

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for domain in domains { group.addTask { await domain.run() } }
            for listener in listeners {
                group.addTask {
                    await listener.run()
                    await untilCancelled()
                }
            }
            await cancelWhenGracefulShutdown { await router.run() }
            for domain in domains { await domain.shutdown() }
            group.cancelAll()
        }
    }
}
