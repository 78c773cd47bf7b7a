import Config
import DHTRendezvous
import Foundation
import Gateway
import GatewayReports
import Island
import Kademlia
import LocalDomain
import Logging
import Primitives
import ServiceLifecycle
import StateStore
import Transport

/// A router's gateway of one of its links towards the rest of the network (router mode):
/// an ordinary `GatewayMachine` on that link — it advertises itself there, takes part in
/// the link's election, and while it leads exports the link's hosts' services under the
/// link's island and imports other islands' services onto the link — with a DHT node of its
/// own. So two routers, or a router and ordinary z2zd boxes, meet through the DHT as
/// ordinary gateways do, while the links of one box keep exchanging records in process:
/// each link's gateway leaves the islands of the box's other links it leads to the
/// `LinkExchange` (`GatewayMachine.Settings.siblingIslands`, kept by `RouterService`), and a
/// link another gateway leads leaves the exchange (`LinkExchange.setLed`).
///
/// Each link's gateway has its own identity (a state directory `link-<island id>` under the
/// router's) and its own UDP port, `dht.port + 4 × link`: a DHT value is owned by one node,
/// and a node leads one island. Its publications on the link go through its branch of the
/// link's domain (`LinkDomainTee`), which says their goodbyes.
struct LinkGateway: Sendable {
    let link: LinkExchange.Link
    let port: UInt16
    let store: StateStore
    let peer: DHTPeer
    let rendezvous: KademliaRendezvous
    let driver: GatewayDriver

    /// The UDP port of link `index`'s gateway; nil when it would pass 65535.
    static func port(dhtPort: UInt16, link index: Int) -> UInt16? {
        UInt16(exactly: Int(dhtPort) + 4 * index)
    }

    /// Runs the DHT node and the engine, and the gateway until graceful shutdown; then the
    /// gateway says its goodbyes (its exports removed from the DHT, its imports withdrawn)
    /// while the node still runs.
    func run(logger: Logger) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await peer.run() } catch {
                    logger.error("link gateway's DHT socket failed; the link still exchanges with the other links",
                                 metadata: ["link": "\(link.name)", "port": "\(port)", "reason": "\(error)"])
                }
                await untilCancelled()
            }
            group.addTask { await rendezvous.run() }
            await cancelWhenGracefulShutdown { await driver.run() }
            await saveRoutingCache(logger: logger)
            group.cancelAll()
        }
    }

    func saveRoutingCache(logger: Logger) async {
        let contacts = await rendezvous.contactsToCache()
        guard !contacts.isEmpty else { return }
        do { try store.saveRoutingCache(contacts) } catch {
            logger.warning("could not save a link's routing cache", metadata: ["link": "\(link.name)", "reason": "\(error)"])
        }
    }
}

extension GatewayDaemon {
    /// One gateway per link (`LinkGateway`), publishing through `domains` (one per link) and
    /// joining through the configured seeds and each link's routing cache.
    func linkGateways(_ config: GatewayConfiguration, links: [LinkExchange.Link], domains: [any LocalDomain],
                      metrics: GatewayMetrics, transition: @escaping @Sendable (Int, Election.Transition) -> Void) throws -> [LinkGateway] {
        let network = NetworkID(name: config.network)
        let networkKey = try admission(config, network: network)
        if config.dht.engine != .native {
            logger.warning("router mode runs the native DHT engine on each link (dht.engine = \"\(config.dht.engine.rawValue)\" is not used)")
        }
        let configured = Self.resolve(config.dht.bootstrap, logger: logger)
        return try links.map { link -> LinkGateway in
            guard let port = LinkGateway.port(dhtPort: config.dht.port, link: link.index) else {
                throw DaemonError.link(link.interface, "its gateway's port, dht.port + \(4 * link.index), passes 65535")
            }
            let directory = config.stateDirectory + "/link-\(link.island)"
            do { try Self.moveNameOnlyLinkDirectory(of: link, to: directory, in: config.stateDirectory) } catch {
                logger.warning("could not move a link's state directory to its new name; the link gateway starts with a new identity",
                               metadata: ["link": "\(link.name)", "directory": "\(directory)", "reason": "\(error)"])
            }
            let store: StateStore
            let identity: Identity
            do {
                store = try StateStore(directory: directory)
                identity = try store.identity()
            } catch {
                throw DaemonError.stateDirectory(directory, "\(error)")
            }
            let cached = (try? store.routingCache()) ?? []
            let seeds = configured + cached.map(\.endpoint).filter { !configured.contains($0) }
            var dht = Kademlia.Configuration(network: network)
            dht.structureThreshold = config.dht.structureThreshold
            dht.networkKey = networkKey
            dht.limits.maxContactsPerSubnetPerBucket = config.dht.subnetLimit
            dht.wallClockAtZero = Self.wallClockAtZero()
            let peer = DHTPeer(identity: identity, configuration: dht, host: Wildcard.host, port: Int(port),
                               logger: Logger(label: "z2z.dht.\(link.name)"))
            let rendezvous = KademliaRendezvous(peer: peer, seeds: seeds, wallClockMilliseconds: Self.wallClockMilliseconds(),
                                                logger: Logger(label: "z2z.rendezvous.\(link.name)"))
            var settings = GatewayMachine.Settings(
                id: identity.id, network: network, priority: config.island.priority, port: port,
                island: link.island, islandName: link.name, seed: .random(in: .min ... .max))
            settings.election.heartbeatInterval = .seconds(config.island.heartbeat.seconds)
            let started = Self.wallClockMilliseconds()
            settings.election.termFloor = started / 1000
            // Heartbeats of this run order above the last run's (`ReplayGuard`).
            settings.election.incarnation = (try? store.nextIncarnation(wallClock: started)) ?? started
            settings.networkKey = networkKey
            // Siblings follow which links the box leads (`RouterService`): none yet.
            let driver = GatewayDriver(
                machine: GatewayMachine(settings: settings, policy: config.policy), domain: domains[link.index],
                rendezvous: rendezvous, link: PeerDatagramLink(peer: peer),
                hooks: .init(event: { metrics.observe($0) }, rendezvousOperation: { operation, duration, result in
                    metrics.rendezvousOperation(operation, duration: duration, result: result)
                }, seedRendezvous: { rendezvous.addSeeds($0) }, transition: { transition(link.index, $0) }),
                logger: Logger(label: "z2z.gateway.\(link.name)"))
            logger.info("link gateway", metadata: [
                "link": "\(link.name)", "node": "\(identity.id)", "island": "\(link.island)", "dht_port": "\(port)",
                "cached_contacts": "\(cached.count)",
            ])
            return LinkGateway(link: link, port: port, store: store, peer: peer, rendezvous: rendezvous, driver: driver)
        }
    }

    /// Before a link's island was derived from the box's node id too, its state directory
    /// was named after an island derived from its name alone; it is moved to the new name
    /// (keeping the link gateway's identity) when the new one does not exist yet.
    static func moveNameOnlyLinkDirectory(of link: LinkExchange.Link, to directory: String, in stateDirectory: String) throws {
        let old = stateDirectory + "/link-\(LinkExchange.Link.island(named: link.name))"
        let files = FileManager.default
        guard old != directory, files.fileExists(atPath: old), !files.fileExists(atPath: directory) else { return }
        try files.moveItem(atPath: old, toPath: directory)
    }
}
