import DNSSD
import Gateway
import GatewayReports
import Island
import Kademlia
import LocalDomain
import Logging
import NIOCore
import NIOPosix
import Primitives
import Relay
import Rendezvous
import Synchronization
import Transport

/// The leaders' relay in z2zd (issue 14): both sides of `Sources/Relay` put to work for the
/// gateway machine.
///
/// - Exporting: an SSH server on the relay port (`RelayExporter`) that other islands'
///   leaders dial. It reaches only what the machine exports now: the driver passes every
///   export and withdrawal on (`RelayGrant`), and a withdrawal revokes the service's open
///   streams too.
/// - Importing: the machine's `RelayEffect`s carried out: a bounded TCP connect probe, a
///   relay listener opened on this leader's LAN addresses (the port the import is published
///   with), closed with its import.
/// - Leaders behind NAT: when no endpoint of an exporting leader answers, this leader asks
///   it through the DHT to dial in (`RelayDialRequest` under `relay-dial/<leader>`), and
///   opens the listener once that reverse tunnel is up; and it dials out itself to every
///   leader that asks it so, keeping those tunnels up while the request stands.
/// - The LAN: every few seconds the interfaces the machine's own advert is seen on give the
///   prefixes, the addresses and the offer (`RelayNetwork`), handed to the machine when
///   they change.
final class GatewayRelay: Sendable {
    /// How long a connect probe (of an import's service, or of a relay endpoint) waits.
    static let probeTimeout = TimeAmount.milliseconds(1_500)
    /// How often the LAN is looked at again once known (addresses come and go).
    static let networkInterval = Duration.seconds(5)
    /// How often the circuit table is taken from the directory again: an import that finds
    /// its exporting leader cannot be dialled looks in it for circuit relays at once.
    static let circuitsInterval = Duration.seconds(1)
    /// How long to wait for the own advert before taking every interface as the LAN.
    static let lanFallbackAfter = Duration.seconds(10)

    /// How long an import waits for a leader that cannot be dialled to dial in.
    static let dialInWait = Duration.seconds(30)
    /// How long it waits for a reverse tunnel straight back before going through a circuit
    /// relay (a reachable leader both dial: this one when it, too, cannot be dialled).
    static let circuitAfter = Duration.seconds(3)
    /// How many other leaders' relays from the directory are dialled at once when this leader
    /// reached none yet.
    static let circuitCandidates = 4

    let exporter: RelayExporter
    let importer: RelayImporter
    let grants: Grants
    let directory: TunnelDirectory
    let rendezvous: any Rendezvous
    let node: NodeID
    let network: NetworkID
    /// Imports waiting for their exporting leader to dial in, and the requests to dial out
    /// that other leaders put for this one (where to dial them, by asker).
    let dialIns = Mutex<Set<ImportKey>>([])
    let dialRequests = Mutex<[ValueSlot: RelayDialRequest]>([:])
    /// Other leaders whose relays this one reached, and where: the circuit relays it can offer.
    let reached = Mutex<[NodeID: Endpoint]>([:])
    let waiting: (stream: AsyncStream<(ImportKey, RelaySource)>, continuation: AsyncStream<(ImportKey, RelaySource)>.Continuation)
    /// This gateway's LAN as last found (`RelayNetwork`).
    let lan = Mutex(RelayNetwork())
    let settings: Relay.RelaySettings
    var logger: Logger { settings.logger }

    init(_ settings: Relay.RelaySettings, rendezvous: any Rendezvous, network: NetworkID) {
        let grants = Grants()
        self.grants = grants
        self.settings = settings
        self.rendezvous = rendezvous
        self.node = settings.identity.id
        self.network = network
        waiting = AsyncStream.makeStream(of: (ImportKey, RelaySource).self)
        // Tunnels other leaders dial in to serve their own services (leaders behind NAT): the
        // importer opens streams to them over those before dialling.
        let directory = TunnelDirectory()
        self.directory = directory
        exporter = RelayExporter(settings, directory: directory, circuit: { _, service in grants.circuit(service) }) { requester, service in
            grants.authorize(requester, service)
        }
        importer = RelayImporter(settings, directory: directory)
    }

    // MARK: exporting

    /// What the exporting side may reach, kept from the machine's exports: answered from
    /// memory on an event loop for every stream request.
    final class Grants: Sendable {
        private let table = Mutex<[ServiceID: (island: IslandID, target: RelayTarget)]>([:])

        func apply(_ grant: RelayGrant) -> ServiceRef? {
            table.withLock { table in
                switch grant {
                case .grant(let id, let island, let target):
                    table[id] = (island, target)
                    return nil
                case .revoke(let id):
                    return table.removeValue(forKey: id).map { ServiceRef(island: $0.island, type: id.type, name: id.name) }
                }
            }
        }

        /// Other islands' leaders and this leader's import gate, for circuit streams.
        let circuits = Mutex(CircuitTable())

        /// Where a stream to another island's service goes through this leader (a circuit
        /// relay): to its leader, while this leader would import it. Nil for this island's
        /// own services and unknown islands: the authorizer answers those.
        func circuit(_ service: ServiceRef) -> Result<NodeID, RelayRefusal>? {
            let own = table.withLock { $0[ServiceID(name: service.name, type: service.type)]?.island == service.island }
            guard !own else { return nil }
            switch circuits.withLock({ $0 }).route(service.type, named: service.name, of: service.island) {
            case .success(let leader): return .success(leader)
            case .failure(.denied): return .failure(.notExported)
            case .failure(.unknownIsland): return nil
            }
        }

        /// The LAN endpoints of a service this island exports now; anything else is refused.
        func authorize(_ requester: NodeID, _ service: ServiceRef) -> Result<[Endpoint], RelayRefusal> {
            let grant = table.withLock { $0[ServiceID(name: service.name, type: service.type)] }
            guard let grant, grant.island == service.island else { return .failure(.unknownService) }
            // An IPv6 link-local address needs its interface, which an `Endpoint` cannot carry.
            let endpoints = grant.target.addresses.map(\.address).filter { !($0.isLinkLocal && !$0.isIPv4) }.map { address in
                Endpoint(address: Endpoint.Address(address), port: grant.target.port)
            }
            return endpoints.isEmpty ? .failure(.unreachable) : .success(endpoints)
        }
    }

    /// The machine exported or withdrew a service.
    func apply(_ grant: RelayGrant) {
        if let withdrawn = grants.apply(grant) {
            exporter.revoke(withdrawn)
        } else if case .grant(let id, let island, _) = grant {
            exporter.reinstate(ServiceRef(island: island, type: id.type, name: id.name))
        }
    }

    // MARK: importing

    /// Carries out one of the machine's relay effects; the answer goes back to the machine.
    func carryOut(_ effect: RelayEffect) async -> GatewayMachine.Event? {
        switch effect {
        case .probe(let key, let addresses, let port):
            let endpoints = addresses.prefix(4).map { Endpoint(address: Endpoint.Address($0), port: port) }
            // A refused connection is an answer from the host: its address is reachable.
            let reachable = await firstConnecting(endpoints, refusedAnswers: true) != nil
            logger.debug("import probed", metadata: ["service": "\(key)", "reachable": "\(reachable)"])
            return .probed(key, reachable: reachable)
        case .openRelay(let key, let source):
            let network = lan.withLock { $0 }
            let addresses = network.addresses.map(Endpoint.Address.init)
            guard !addresses.isEmpty else { return .relayOpened(key, port: nil, failure: "this leader has no LAN address") }
            let dialledIn = directory.leaders.contains(source.leader)
            guard let endpoint = dialledIn ? source.endpoints.first : await dialable(source.endpoints, from: network) else {
                logger.warning("no endpoint of the exporting leader's relay answers: asking it to dial in", metadata: [
                    "service": "\(key)", "leader": "\(source.leader)", "endpoints": "\(source.endpoints.map(\.description).joined(separator: ","))",
                ])
                await askToDialIn(source.leader, offer: network.offer)
                await reachCircuitRelays(besides: source.leader, from: network)
                await askToDialCircuitRelays(source.leader)
                dialIns.withLock { _ = $0.insert(key) }
                waiting.continuation.yield((key, source))
                return .relayOpened(key, port: nil, failure: "leader \(source.leader) cannot be dialled; waiting for it to dial in")
            }
            if !dialledIn { reached.withLock { $0[source.leader] = endpoint } }
            return await listen(key, source, via: endpoint, on: addresses)
        case .closeRelay(let key):
            dialIns.withLock { _ = $0.remove(key) }
            await importer.stopListening(Self.ref(key))
            logger.info("relay closed", metadata: ["service": "\(key)"])
            return nil
        }
    }

    /// Where to dial an exporting leader: an endpoint outside this LAN's prefixes if one
    /// answers (on islands that share 192.168.1.0/24 the exporter's LAN address names a host
    /// of this LAN, maybe this very gateway), else one inside them (islands on one link).
    /// The tunnel still checks the leader's host key. IPv4 endpoints are tried before IPv6
    /// ones: a connect to an IPv6 address nothing routes fails only after about a second
    /// (IPv4's at once), and `firstConnecting` waits for every attempt, so a dual-stack
    /// offer tried all at once would hold up every relayed import; an IPv6-only importer's
    /// IPv4 attempts fail at once (no IPv4 route).
    func dialable(_ endpoints: [Endpoint], from network: RelayNetwork) async -> Endpoint? {
        let candidates = endpoints.filter { !network.hostAddresses.contains(IPAddress($0.address)) }
        let (inside, outside) = candidates.reduce(into: ([Endpoint](), [Endpoint]())) { split, endpoint in
            let address = IPAddress(endpoint.address)
            if network.prefixes.contains(where: { $0.contains(address) }) { split.0.append(endpoint) } else { split.1.append(endpoint) }
        }
        for group in [outside, inside] {
            let (v4, v6) = (group.filter { IPAddress($0.address).isIPv4 }, group.filter { !IPAddress($0.address).isIPv4 })
            if let endpoint = await firstConnecting(v4) { return endpoint }
            if let endpoint = await firstConnecting(v6) { return endpoint }
        }
        return nil
    }

    /// Opens the import's listener; its streams go to `leader` (the exporting leader, or a
    /// circuit relay that forwards them to it) at `endpoint`.
    func listen(_ key: ImportKey, _ source: RelaySource, via endpoint: Endpoint, leader: NodeID? = nil,
                        on addresses: [Endpoint.Address]) async -> GatewayMachine.Event {
        let leader = leader ?? source.leader
        do {
            let port = try await importer.listen(for: Self.ref(key), via: Contact(id: leader, endpoint: endpoint), on: addresses)
            logger.info("relay listening", metadata: [
                "service": "\(key)", "port": "\(port)", "leader": "\(source.leader)", "via": "\(leader == source.leader ? "" : "circuit \(leader) at ")\(endpoint)",
            ])
            return .relayOpened(key, port: port, failure: nil)
        } catch {
            logger.warning("relay not opened", metadata: ["service": "\(key)", "reason": "\(error)"])
            return .relayOpened(key, port: nil, failure: "\(error)")
        }
    }

    static func ref(_ key: ImportKey) -> ServiceRef { ServiceRef(island: key.island, type: key.type, name: key.name) }

    /// The first of `endpoints` that accepts a TCP connection within `probeTimeout`, all tried at once.
    /// - Parameter refusedAnswers: a refused connection (RST) counts as an answer.
    func firstConnecting(_ endpoints: [Endpoint], refusedAnswers: Bool = false) async -> Endpoint? {
        await withTaskGroup(of: Endpoint?.self) { group in
            for endpoint in endpoints {
                group.addTask { await self.connects(to: endpoint, refusedAnswers: refusedAnswers) ? endpoint : nil }
            }
            for await answer in group {
                if let answer {
                    group.cancelAll()
                    return answer
                }
            }
            return nil
        }
    }

    private func connects(to endpoint: Endpoint, refusedAnswers: Bool) async -> Bool {
        guard let address = try? endpoint.socketAddress() else { return false }
        do {
            let channel = try await ClientBootstrap(group: settings.group).connectTimeout(Self.probeTimeout).connect(to: address).get()
            try? await channel.close()
            return true
        } catch {
            return refusedAnswers && Self.isRefused(error)
        }
    }

    /// ECONNREFUSED, as NIO reports it (alone, or among the attempts of one connect).
    static func isRefused(_ error: any Error) -> Bool {
        if let error = error as? IOError { return error.errnoCode == ECONNREFUSED }
        if let error = error as? NIOConnectionError { return error.connectionErrors.contains { isRefused($0.error) } }
        return false
    }

    // MARK: reporting

    /// Both sides' totals for `/metrics`.
    var metrics: RelayMetricsSnapshot {
        RelayMetricsSnapshot(exporting: Self.side(exporter.report), importing: Self.side(importer.report))
    }

    private static func side(_ report: RelayReport) -> RelayMetricsSnapshot.Side {
        var side = RelayMetricsSnapshot.Side(
            refusals: Dictionary(report.refusals.map { ($0.key.reason, $0.value) }, uniquingKeysWith: +),
            endings: Dictionary(report.endings.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: +))
        for (service, traffic) in report.services {
            side.add(service: RelayMetricsSnapshot.service(service.name, service.type), .init(
                streams: traffic.streams, open: traffic.open,
                bytesToService: traffic.bytesToService, bytesFromService: traffic.bytesFromService))
        }
        return side
    }

    // MARK: running

    /// Starts the relay's server on `port` (all addresses, IPv4 and IPv6), then follows the LAN until
    /// cancelled, handing it to the driver; shuts both sides down at the end. Without its
    /// port the relay offers nothing (imports still use other islands' relays).
    func run(port: UInt16, lanRouted: Bool, driver: GatewayDriver) async {
        let relayPort: UInt16?
        do {
            let wildcard: Endpoint.Address = Wildcard.isIPv6(Wildcard.host) ? .v6(0, 0) : .v4(0)
            let local = try await exporter.start(on: Endpoint(address: wildcard, port: port))
            relayPort = local.port
            logger.info("relay listening for other leaders", metadata: ["address": "\(local)"])
        } catch {
            relayPort = nil
            logger.error("relay server not started: this island's services are not relayed", metadata: ["port": "\(port)", "reason": "\(error)"])
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.followNetwork(relayPort: relayPort, lanRouted: lanRouted, driver: driver) }
            group.addTask { await self.followCircuits(driver: driver) }
            group.addTask {
                await withTaskGroup(of: Void.self) { waits in
                    for await (key, source) in self.waiting.stream {
                        waits.addTask { await self.awaitDialIn(key, source, driver: driver) }
                    }
                }
            }
            group.addTask {
                await withTaskGroup(of: Void.self) { dials in
                    await self.serveDialRequests(&dials)
                    await untilCancelled()
                }
            }
            await untilCancelled()
            waiting.continuation.finish()
            group.cancelAll()
        }
        await importer.shutdown()
        await exporter.shutdown()
    }

    /// Keeps the circuit table (other leaders, their relays, the import gate) as the driver
    /// has it now, until cancelled.
    private func followCircuits(driver: GatewayDriver) async {
        while !Task.isCancelled {
            let table = await driver.circuitTable()
            grants.circuits.withLock { $0 = table }
            try? await Task.sleep(for: Self.circuitsInterval)
        }
    }

    /// Finds this gateway's LAN and hands it to the driver when it changes.
    private func followNetwork(relayPort: UInt16?, lanRouted: Bool, driver: GatewayDriver) async {
        let started = ContinuousClock.now
        var current: RelayNetwork?
        while !Task.isCancelled {
            var lanInterfaces = Set(await driver.lanInterfaces())
            let interfaces = RelayNetwork.interfaceAddresses()
            if lanInterfaces.isEmpty, started.duration(to: .now) > Self.lanFallbackAfter {
                lanInterfaces = Set(interfaces.filter { !$0.address.isLoopback }.map(\.interface))
            }
            let network = RelayNetwork(interfaces: interfaces, lan: lanInterfaces, relayPort: relayPort, lanRouted: lanRouted)
            if network != current, !network.prefixes.isEmpty {
                current = network
                lan.withLock { $0 = network }
                logger.info("relay network", metadata: [
                    "lan_prefixes": "\(network.prefixes.map(\.description).joined(separator: ","))",
                    "lan_addresses": "\(network.addresses.map(\.description).joined(separator: ","))",
                    "offer": "\(network.offer?.endpoints.map(\.description).joined(separator: ",") ?? "none")",
                ])
                await driver.setRelayNetwork(offer: network.offer, localPrefixes: network.prefixes, localAddresses: network.addresses)
            }
            let interval = current == nil ? Duration.milliseconds(250) : Self.networkInterval
            try? await Task.sleep(for: interval)
        }
    }
}
