import API
import Avahi
import Config
import DNSSD
import DHTRendezvous
import Foundation
import Gateway
import GatewayReports
import Island
import Kademlia
import LocalDomain
import Logging
import NIOCore
import OpenDHTRendezvous
import Policy
import Primitives
import Relay
import Rendezvous
import ServiceLifecycle
import SIP
import SIPServer
import StateStore
import Transport
import Z2ZAPI

/// z2zd put together: the state directory, the DHT peer on the gateway's UDP port (which
/// also carries the island's heartbeats), the rendezvous engine (`dht.engine`: the native
/// one on that socket, or OpenDHT on its own port), Avahi, the gateway machine
/// and its driver, and the local HTTP API, run as one service group.
///
/// On SIGTERM or SIGINT the API stops first, then the gateway says goodbye (withdraws its
/// imports, removes its exports from the DHT) while the DHT socket is still open, then the
/// socket closes. SIGHUP reloads the configuration (see `reload()`).
public struct GatewayDaemon: Sendable {
    public let configuration: ReloadableConfiguration
    let logger: Logger
    /// Called with the new configuration after a successful reload (z2zd applies the log level).
    private let onReload: @Sendable (GatewayConfiguration) -> Void

    public init(configuration: ReloadableConfiguration, logger: Logger = Logger(label: "z2zd"),
                onReload: @escaping @Sendable (GatewayConfiguration) -> Void = { _ in }) {
        self.configuration = configuration
        self.logger = logger
        self.onReload = onReload
    }

    /// Runs until SIGTERM or SIGINT; throws when it cannot start (state directory, port, API address).
    public func run() async throws {
        let config = configuration.current
        for warning in config.warnings { logger.warning("\(warning)") }
        if config.isRouter { return try await runRouter(config) }

        let store: StateStore
        let identity: Identity
        let island: IslandID?
        do {
            store = try StateStore(directory: config.stateDirectory)
            if let aside = store.setAside {
                logger.error("the state database was damaged; moved it aside and started a new one (new node identity, island id and caches)",
                             metadata: ["moved_to": "\(aside)"])
            }
            identity = try store.identity()
            island = try store.islandID()
        } catch {
            throw DaemonError.stateDirectory(config.stateDirectory, "\(error)")
        }
        let network = NetworkID(name: config.network)
        let networkKey = try admission(config, network: network)
        // Seeds: the configured ones, then the contacts the last run knew (a fast restart).
        let cached = (try? store.routingCache()) ?? []
        let configured = Self.resolve(config.dht.bootstrap, logger: logger)
        let seeds = configured + cached.map(\.endpoint).filter { !configured.contains($0) }

        var dht = Kademlia.Configuration(network: network)
        dht.structureThreshold = config.dht.structureThreshold
        dht.networkKey = networkKey
        dht.limits.maxContactsPerSubnetPerBucket = config.dht.subnetLimit
        dht.wallClockAtZero = Self.wallClockAtZero()
        // The IPv6 wildcard, dual-stack: leaders (and their heartbeats) reach each other over
        // IPv4 and IPv6 alike, and an IPv6-only LAN needs nothing else.
        let peer = DHTPeer(identity: identity, configuration: dht, host: Wildcard.host, port: Int(config.dht.port),
                           logger: Logger(label: "z2z.dht"))
        let rendezvous = try Self.engine(config, identity: identity, network: network, networkKey: networkKey, peer: peer,
                                         seeds: seeds, logger: logger)
        let avahi = try AvahiDomain(options: .init(scope: .allTypes), logger: Logger(label: "z2z.avahi"))
        // Removals and new types as early as the wire allows: goodbyes read off the link fold
        // into Avahi's events, and the types packets name are browsed at once.
        let listener = MDNSListener(logger: logger)
        let domain = GoodbyeAwareDomain(wrapping: avahi, goodbyes: listener.goodbyes, types: listener.types)

        var settings = GatewayMachine.Settings(
            id: identity.id, network: network, priority: config.island.priority, port: config.dht.port,
            island: island, islandName: config.island.name, seed: .random(in: .min ... .max))
        settings.election.heartbeatInterval = .seconds(config.island.heartbeat.seconds)
        settings.networkKey = networkKey
        settings.relayMode = config.relay.mode
        // Claims start above the wall clock in seconds (see `Election.Configuration.termFloor`).
        let started = Self.wallClockMilliseconds()
        settings.election.termFloor = started / 1000
        // Heartbeats of this run order above the last run's (`ReplayGuard`).
        settings.election.incarnation = (try? store.nextIncarnation(wallClock: started)) ?? started
        let machine = GatewayMachine(settings: settings, policy: config.policy)
        let logger = self.logger
        let metrics = GatewayMetrics()
        // The leaders' relay, unless `[relay] mode = "off"`.
        let relay = config.relay.mode == .off ? nil : GatewayRelay(Relay.RelaySettings(
            identity: identity, networkKey: networkKey, logger: Logger(label: "z2z.relay")), rendezvous: rendezvous, network: network)
        let driver = GatewayDriver(
            machine: machine, domain: domain, rendezvous: rendezvous, link: PeerDatagramLink(peer: peer),
            hooks: .init(persistIsland: { island in
                do { try store.setIslandID(island) } catch {
                    logger.error("could not remember the island id", metadata: ["island": "\(island)", "reason": "\(error)"])
                }
            }, event: { metrics.observe($0) }, rejected: { metrics.rejected($0) }, rendezvousOperation: { operation, duration, result in
                metrics.rendezvousOperation(operation, duration: duration, result: result)
            }, seedRendezvous: { endpoints in
                // The endpoints are the gateways' DHT ports; a z2zd's OpenDHT node listens
                // two above (`DHTSettings.openDHTPort`).
                switch config.dht.engine {
                case .native: rendezvous.addSeeds(endpoints)
                case .opendht:
                    rendezvous.addSeeds(endpoints.compactMap { endpoint in
                        DHTSettings.openDHTPort(of: endpoint.port).map { Endpoint(address: endpoint.address, port: $0) }
                    })
                }
            }, relay: { effect in
                guard let relay else { return await GatewayDriver.Hooks.noRelay(effect) }
                return await relay.carryOut(effect)
            }, relayGrant: { grant in relay?.apply(grant) }),
            logger: Logger(label: "z2z.gateway"))
        let configuration = self.configuration
        let relayMetrics: (@Sendable () -> RelayMetricsSnapshot)? = if let relay { { relay.metrics } } else { nil }
        let status = GatewayStatus(driver: driver, rendezvous: rendezvous, network: config.network, metrics: metrics,
                                   relayMetrics: relayMetrics)

        // The SIP service: redirect, stateless proxy and registrar (`[sip]`).
        var registrations: GatewayService.Registrations?
        var sip: SIPServer?
        if config.sip.enabled {
            let (changes, changed) = AsyncStream.makeStream(of: [RegistrarChange].self)
            // The SIP service's own publications: registrations, and `_sipuri` twins of imported plain `_sip` UAs.
            let announcing = try AvahiDomain(options: .init(scope: .nothing), logger: Logger(label: "z2z.sip.announcements"))
            registrations = .init(changes: changes, domain: announcing, announcer: RegistrarAnnouncer(
                domain: announcing, port: config.sip.port, gateway: "\(identity.id)", logger: Logger(label: "z2z.sip.registrar")),
                twins: SIPTwinPublisher(domain: announcing, logger: Logger(label: "z2z.sip.twins")))
            sip = SIPServer(configuration: .init(port: Int(config.sip.port), redirect: .init(routing: Self.sipRouting(config))),
                            userLookup: { user in await status.lookUp(user: user) },
                            onRegistrations: { changed.yield($0) }) { addressOfRecord in
                await status.lookUp(addressOfRecord)
            }
            if let sip { status.readSIPService { Self.sipServiceState(sip) } }
        }
        let gateway = GatewayService(peer: peer, rendezvous: rendezvous, driver: driver, domain: domain,
                                     listener: listener, sip: sip, registrations: registrations,
                                     relay: relay.map { ($0, config.relay.port(dhtPort: config.dht.port), config.relay.lanRouted) },
                                     logger: logger) {
            // The routing cache: what a restart joins through when the seeds are gone.
            let contacts = await rendezvous.contactsToCache()
            guard !contacts.isEmpty else { return }
            do { try store.saveRoutingCache(contacts) } catch {
                logger.warning("could not save the routing cache", metadata: ["reason": "\(error)"])
            }
        }
        let descriptors = DescriptorLimit.raise()
        let api = APIServer(listen: config.api.listen, source: status, configuration: configuration,
                            checker: ConfigCheckerProcess(logger: Logger(label: "z2z.api")),
                            logger: Logger(label: "z2z.api")) { port in
            logger.info("API listening", metadata: ["address": "\(config.api.listen.hostText):\(port)",
                                                    "connections_max": "\(APIServer.connectionLimit(descriptors: descriptors))"])
        }
        let notifier = SystemdNotifier()
        let systemd = SystemdService(notifier: notifier, status: status, seedsConfigured: !seeds.isEmpty,
                                     logger: Logger(label: "z2z.systemd"))
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: gateway), .init(service: api), .init(service: systemd)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "z2z.lifecycle")))
        let reload = SignalHandler(signal: SIGHUP) {
            // RELOADING=1 … READY=1 around the reload, once the gateway was ready at all.
            let announce = systemd.readiness.isReady
            if announce { notifier.notify("RELOADING=1") }
            defer { if announce { notifier.notify("READY=1") } }
            guard self.reload() else { return }
            // New seeds join at once: this is how two groups of islands formed apart are
            // given the link that merges them.
            rendezvous.addSeeds(Self.resolve(configuration.current.dht.bootstrap, logger: logger))
            let policy = configuration.current.policy
            Task { await driver.setPolicy(policy) }
        }
        defer { reload.cancel() }
        logger.info("z2zd starting", metadata: [
            "node": "\(identity.id)", "network": "\(config.network)", "dht_port": "\(config.dht.port)",
            "island": "\(island.map { "\($0)" } ?? "new")", "priority": "\(config.island.priority)",
            "bootstrap": "\(configured.map(\.description).joined(separator: ","))", "cached_contacts": "\(cached.count)",
            "engine": "\(config.dht.engine.rawValue)", "relay": "\(config.relay.mode.rawValue)",
        ])
        try await group.run()
        logger.info("z2zd stopped")
    }

    /// The SIP node the gateway is (its addresses, read from the interfaces), its link, the
    /// mode and the registrar, from `[sip]`.
    static func sipRouting(_ config: GatewayConfiguration) -> SIPRouting {
        let interfaces = SIPInterfaces.read()
        var registrar: Registrar.Configuration?
        if config.sip.registrar {
            let secret = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined()
            registrar = Registrar.Configuration(
                minimumExpires: config.sip.minimumExpires, maximumExpires: config.sip.maximumExpires,
                defaultExpires: config.sip.maximumExpires, localNetworks: interfaces.networks,
                authentication: config.sip.users.isEmpty ? nil
                    : DigestAuthentication(realm: config.sip.realm, credentials: config.sip.users, secret: secret))
        }
        return SIPRouting(mode: config.sip.mode == .proxy ? .proxy : .redirect,
                          identity: SIPNodeIdentity(hosts: interfaces.hosts, port: config.sip.port),
                          localNetworks: interfaces.networks, registrar: registrar,
                          probing: config.sip.probeContacts ? ContactProber.Configuration() : nil)
    }

    /// The registrar's bindings and the contact checks, for `z2z sip`.
    static func sipServiceState(_ sip: SIPServer) -> SIPServiceState {
        let now = ContinuousClock.now
        let registrations = sip.registrations().sorted { $0.key < $1.key }.flatMap { aor, bindings in
            bindings.map { SIPRegistrationInfo(addressOfRecord: "\(aor)", contact: $0.sipContact.description,
                                               expiresInSeconds: Int(max(0, ($0.expires - now).components.seconds))) }
        }
        let checks = sip.contacts().sorted { $0.uri.description < $1.uri.description }.map { entry in
            SIPContactCheckInfo(contact: entry.uri.description, health: entry.health.rawValue, misses: entry.misses,
                                lastAnswerSecondsAgo: entry.lastAnswer.map { (now - $0) / .seconds(1) })
        }
        return SIPServiceState(registrations: registrations, contactChecks: checks)
    }

    /// The network key (`SecuritySettings`): read, or created on the first start; nil in open
    /// mode, which is logged loudly at every start.
    func admission(_ config: GatewayConfiguration, network: NetworkID) throws -> NetworkKey? {
        let resolved: (secret: [UInt8]?, origin: NetworkSecret.Origin, warnings: [String])
        do {
            resolved = try NetworkSecret.resolve(config.security, stateDirectory: config.stateDirectory,
                                                 configurationFile: configuration.file)
        } catch {
            throw DaemonError.networkKey("\(error)")
        }
        for warning in resolved.warnings { logger.warning("\(warning)") }
        guard let secret = resolved.secret else {
            logger.critical("OPEN MODE: no network key; any host that reaches this gateway can join the overlay, store records and take part in elections (security.open = true; labs only)")
            return nil
        }
        guard let key = NetworkKey(secret: secret, network: network) else {
            throw DaemonError.networkKey("network key from \(resolved.origin): shorter than \(NetworkKey.minimumSecretBytes) bytes")
        }
        if case .generated(let path) = resolved.origin {
            logger.warning("generated a new network key; only gateways holding the same key can join this gateway: copy \(path) to every gateway of network \"\(config.network)\" and name it with --network-key-file or security.network_key_file")
        } else {
            logger.info("network key", metadata: ["from": "\(resolved.origin)"])
        }
        return key
    }

    /// The DHT node's wall clock at its `now` zero (the loop's uptime), for the issue times of
    /// records: from `wallClockMilliseconds`, so the clock-skew scenario shifts it too.
    static func wallClockAtZero() -> UInt64 {
        let wall = wallClockMilliseconds() / 1000
        return wall &- min(wall, NIODeadline.now().uptimeNanoseconds / 1_000_000_000)
    }

    /// Now on the wall clock, in milliseconds since 1970: the floor of record sequence
    /// numbers and election terms, the incarnation of heartbeats and (`wallClockAtZero`) the
    /// issue times of records; everything else runs on the monotonic clock.
    /// `Z2Z_TEST_CLOCK_OFFSET_SECONDS` (test only, e.g. -300) shifts it, for the clock-skew
    /// scenario of `Deploy/faults` (faketime stalls Swift's timers when it sets the clock back).
    static func wallClockMilliseconds(environment: [String: String] = ProcessInfo.processInfo.environment) -> UInt64 {
        let offset = environment["Z2Z_TEST_CLOCK_OFFSET_SECONDS"].flatMap(Double.init) ?? 0
        return UInt64(max(0, (Date().timeIntervalSince1970 + offset) * 1000))
    }

    /// The rendezvous engine `dht.engine` names. The native one runs on the DHT peer's socket
    /// and OpenDHT its own node on `dht.port + 2`; both join through the configured seeds
    /// (for OpenDHT they name OpenDHT nodes: other gateways' OpenDHT ports, or a `dhtnode`)
    /// and then the routing cache, which holds the engine's own contacts (`contactsToCache`).
    static func engine(_ config: GatewayConfiguration, identity: Identity, network: NetworkID, networkKey: NetworkKey?, peer: DHTPeer,
                       seeds: [Endpoint], logger: Logger) throws -> any RendezvousEngine {
        let now = wallClockMilliseconds()
        switch config.dht.engine {
        case .native:
            return KademliaRendezvous(peer: peer, seeds: seeds, wallClockMilliseconds: now,
                                      logger: Logger(label: "z2z.rendezvous"))
        case .opendht:
            let port = config.dht.openDHTPort ?? 0
            do {
                let engine = try OpenDHTRendezvous(identity: identity, network: network, port: port, seeds: seeds,
                                                   wallClockMilliseconds: now, networkKey: networkKey, logger: Logger(label: "z2z.rendezvous"))
                logger.info("OpenDHT node running", metadata: [
                    "port": "\(engine.node.port)", "opendht_network": "\(OpenDHTRendezvous.openDHTNetwork(for: network))",
                    "opendht_id": "\(engine.node.nodeID)",
                ])
                return engine
            } catch {
                throw DaemonError.engine("\(error)")
            }
        }
    }

    /// SIGHUP: reads the configuration again. A valid one replaces the running one (policy,
    /// priority and names take effect for the next decisions); an invalid one is refused with
    /// its key and line and the running one stays.
    @discardableResult
    public func reload() -> Bool {
        switch configuration.reload() {
        case .failure(let error):
            logger.error("reload refused, keeping the running configuration", metadata: ["reason": "\(error)"])
            return false
        case .success(let reload):
            logger.notice("configuration reloaded", metadata: [
                "changed": "\(reload.changedKeys.joined(separator: ","))",
            ])
            if !reload.keysNeedingRestart.isEmpty {
                logger.warning("some changes take effect only after a restart",
                               metadata: ["keys": "\(reload.keysNeedingRestart.joined(separator: ","))"])
            }
            for warning in reload.configuration.warnings { logger.warning("\(warning)") }
            onReload(reload.configuration)
            return true
        }
    }

    /// Seeds as endpoints; a name that does not resolve is logged and left out (the other
    /// seeds and the link still work).
    static func resolve(_ seeds: [HostPort], logger: Logger) -> [Endpoint] {
        seeds.compactMap { seed in
            do {
                let address = try SocketAddress.makeAddressResolvingHost(seed.hostText, port: Int(seed.port))
                guard let endpoint = Endpoint(address) else { throw DaemonError.unusableAddress("\(seed)") }
                return endpoint
            } catch {
                logger.warning("bootstrap address left out", metadata: ["address": "\(seed)", "reason": "\(error)"])
                return nil
            }
        }
    }
}

/// The gateway's long-running parts as one service: the DHT socket, the rendezvous engine,
/// and the driver. The driver stops first (on graceful shutdown) and says its goodbyes while
/// the socket still runs; then the rest is cancelled.
struct GatewayService: Service {
    let peer: DHTPeer
    let rendezvous: any RendezvousEngine
    let driver: GatewayDriver
    let domain: GoodbyeAwareDomain
    /// Reads goodbyes and service types off the link for `domain`.
    let listener: MDNSListener
    /// The SIP redirect service (`sip.enabled`).
    let sip: SIPServer?
    /// The registrar's changes and who announces them on the link (`sip.registrar`).
    let registrations: Registrations?

    struct Registrations {
        let changes: AsyncStream<[RegistrarChange]>
        let domain: AvahiDomain
        let announcer: RegistrarAnnouncer
        let twins: SIPTwinPublisher
    }
    /// The leaders' relay, its port and whether this LAN is routed (`[relay]`), unless off.
    let relay: (GatewayRelay, port: UInt16, lanRouted: Bool)?
    let logger: Logger
    /// Saves the routing table's contacts; called every minute and once more at the end.
    let saveRoutingCache: @Sendable () async -> Void

    func run() async throws {
        do {
            try await runParts()
        } catch {
            await domain.shutdown()
            throw error
        }
        await domain.shutdown()
    }

    private func runParts() async throws {
        try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask {
                do { try await peer.run() } catch {
                    logger.critical("the DHT socket failed", metadata: ["reason": "\(error)"])
                    throw error
                }
                return "the DHT socket closed"
            }
            group.addTask {
                await rendezvous.run()
                return "the rendezvous engine stopped"
            }
            group.addTask {
                await cancelWhenGracefulShutdown { await driver.run() }
                return "the gateway stopped"
            }
            group.addTask {
                while (try? await Task.sleep(for: .seconds(60))) != nil { await saveRoutingCache() }
                return "the routing cache stopped"
            }
            group.addTask {
                await domain.run()
                return "the local domain stopped"
            }
            group.addTask {
                await listener.run()
                // Without the listener the gateway goes on (the log says why); wait for the end of the group.
                await untilCancelled()
                return "the mDNS listener stopped"
            }
            if let (relay, port, lanRouted) = relay {
                group.addTask {
                    await relay.run(port: port, lanRouted: lanRouted, driver: driver)
                    await untilCancelled()
                    return "the relay stopped"
                }
            }
            if let sip {
                group.addTask {
                    // Without its port (5060 taken) the gateway still runs; the log says why.
                    do {
                        try await sip.run { addresses in
                            logger.info("SIP redirect service listening", metadata: [
                                "udp": "\(addresses.udp.map { "\($0)" } ?? "-")", "tcp": "\(addresses.tcp.map { "\($0)" } ?? "-")",
                            ])
                        }
                    } catch {
                        logger.error("SIP redirect service not started", metadata: ["reason": "\(error)"])
                        await untilCancelled()
                    }
                    return "the SIP redirect service stopped"
                }
                if sip.configuration.redirect.routing?.probing != nil {
                    group.addTask {
                        // The home leader withdraws its own link's UAs that stopped answering (issue 17).
                        await LocalUAWatcher(driver: driver, sip: sip, logger: Logger(label: "z2z.sip.checks")).run()
                        return "the SIP user agents' checks stopped"
                    }
                }
            }
            if let registrations {
                group.addTask {
                    await withDiscardingTaskGroup { inner in
                        inner.addTask { for await _ in registrations.domain.events {} }
                        inner.addTask {
                            for await changes in registrations.changes { await registrations.announcer.apply(changes) }
                        }
                        inner.addTask {
                            // The imports change at the DHT's pace; a look every second is plenty.
                            repeat {
                                let view = await driver.snapshot().view
                                var desired: [ServiceID: Publication] = [:]
                                if view.isLeading {
                                    for imported in view.imports.values {
                                        if let twin = SIPImportTwins.publication(for: imported) { desired[imported.publication.id] = twin }
                                    }
                                }
                                await registrations.twins.reconcile(desired)
                            } while (try? await Task.sleep(for: .seconds(1))) != nil
                        }
                        await untilCancelled()
                        await registrations.announcer.withdrawAll()
                        await registrations.domain.shutdown()
                    }
                    return "the SIP service's announcements stopped"
                }
            }
            // The first to end ends the others: the driver after its goodbyes, or the socket
            // with an error (port taken).
            if let first = try await group.next() { logger.info("\(first)") }
            await saveRoutingCache()
            group.cancelAll()
        }
    }
}

/// Returns when the calling task is cancelled: a part of the gateway that cannot run (its
/// port is taken) waits so, rather than ending the group it belongs to.
func untilCancelled() async {
    while (try? await Task.sleep(for: .seconds(3_600))) != nil {}
}

public enum DaemonError: Error, CustomStringConvertible {
    case stateDirectory(String, String)
    case unusableAddress(String)
    case networkKey(String)
    case engine(String)
    /// A router's link that cannot be used: its interface, and why.
    case link(String, String)

    public var description: String {
        switch self {
        case .link(let interface, let reason): "link \(interface): \(reason)"
        case .networkKey(let reason): reason
        case .stateDirectory(let path, let reason): "state directory \(path): \(reason)"
        case .unusableAddress(let address): "\(address): not an IPv4 or IPv6 address"
        case .engine(let reason): "rendezvous engine: \(reason)"
        }
    }
}

/// Runs an action on each delivery of a signal (SIGHUP), on a Dispatch source.
final class SignalHandler: @unchecked Sendable {
    private let source: DispatchSourceSignal

    init(signal number: Int32, _ action: @escaping @Sendable () -> Void) {
        signal(number, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: action)
        source.resume()
    }

    func cancel() { source.cancel() }
}
