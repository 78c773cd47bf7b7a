import DNSSD
import Gateway
import Island
import Kademlia
import LocalDomain
import Primitives
import Rendezvous

/// Whole gateways on virtual time: every gateway runs the real `GatewayMachine` over the
/// real `DHTNode` of the wrapped `Simulation`, as z2zd runs them, with everything around
/// them simulated:
///
/// - each island has a link (`SimulatedLink`, the `LocalDomain` twin): devices publish
///   and withdraw services there, gateways publish their adverts and imports, and every
///   gateway of the island sees all of it `mdnsDelay` later as `LocalDomainEvent`s, its
///   own publications flagged `.ourOwn`;
/// - heartbeats go between the island's gateways over the link (`lanLatency`); they never
///   cross islands, and a split of the wide-area network leaves them alone;
/// - every gateway's DHT node runs from boot and answers, leader or not (as in the daemon);
///   the machine's rendezvous effects reach it through the engines' own client
///   (`RendezvousClient`, driven here as `ClientShell` drives it for `KademliaRendezvous`);
///   every gateway is configured with the same seeds (the DHT endpoints of the first
///   `seedIslands` islands' gateways), as a deployment's `--bootstrap` list.
///
/// A gateway stops gracefully (`stop`: its removals go out first, then its node stops) or
/// is killed (`kill`: nothing more is sent; Avahi withdraws its publications, its DHT
/// values stay until they expire). `ledger` keeps the truth about imports as it changes.
/// Deterministic by the simulation's seed.
///
/// Not simulated: the relay (machines run with `relayMode` off, their default, so they ask
/// for no probe or listener), name clashes settled by the responder (`importRenamed`), and
/// the time a responder takes to probe a name (every publication takes `mdnsDelay`).
public final class GatewayNetwork {
    public struct Settings: Sendable {
        /// From a publication on the link to every gateway there seeing it (mDNS).
        public var mdnsDelay: Interval = .milliseconds(200)
        /// One heartbeat datagram over the link.
        public var lanLatency: Interval = .milliseconds(1)
        /// z2zd's default island heartbeat.
        public var heartbeatInterval: Interval = .milliseconds(750)
        /// Lifetime of the values a leader puts (`KademliaRendezvous`' default).
        public var recordTTL: UInt32 = 300
        /// `KademliaRendezvous`' connect round.
        public var retryInterval: Interval = .seconds(5)
        /// Islands whose gateways every gateway joins through (its configured seeds).
        public var seedIslands = 3
        /// The longest a gracefully stopping gateway waits for its removals before it exits.
        public var stopTimeout: Interval = .seconds(10)

        public init() {}
    }

    public enum GatewayState: Hashable, Sendable {
        case waiting, running, stopping, stopped, killed
    }

    /// One gateway: its machine, its DHT node (`node` in `simulation`) and its rendezvous.
    public struct Gateway {
        public let island: Int
        public let node: Int
        public let identity: Identity
        public internal(set) var machine: GatewayMachine
        public internal(set) var state = GatewayState.waiting
        /// What it published on its link for other islands, by import key.
        public internal(set) var publications: [ImportKey: Publication] = [:]
        /// Made at boot, with the configured seeds (as z2zd makes its engine).
        var rendezvous = RendezvousClient(seeds: [], wallClockMilliseconds: 0)
        /// The node's requests still running for the rendezvous, and what they answer.
        var requests: [RequestID: RendezvousRequest] = [:]
        var advert: ServiceID?
        var tickAt: Instant?
        var roundAt: Instant?
        /// Removals of a graceful stop still under way.
        var stopRequests: Set<RequestID> = []
    }

    /// One island: its link, its gateways and the devices there.
    public struct Island {
        public let name: String
        public internal(set) var gateways: [Int] = []
        public internal(set) var devices: [ServiceID: ServiceInstance] = [:]
        /// Gone for good (every gateway stopped or killed, its devices with it).
        public internal(set) var departed = false
        var link = SimulatedLink()
    }

    /// What a DHT request of the rendezvous client answers.
    enum RendezvousRequest {
        case bootstrap
        case place(RecordKey, generation: Int)
    }

    /// A gateway took or lost the lead.
    public struct LeaderChange: Hashable, Sendable {
        public var island: Int
        public var gateway: Int
        public var at: Instant
        public var leads: Bool
    }

    public let simulation: Simulation
    public let settings: Settings
    public internal(set) var gateways: [Gateway] = []
    public internal(set) var islands: [Island] = []
    public private(set) var leaderChanges: [LeaderChange] = []
    /// Heartbeat bytes sent over links (not wide-area traffic: never in `simulation.traffic`).
    public internal(set) var heartbeatBytes = 0
    var ledger = ImportLedger()
    var gatewayOfNode: [Int: Int] = [:]
    private var partitionSide: ((Int) -> Int)?
    var nextRequest: UInt64 = 0
    private var rng: Xoshiro256

    public init(simulation: Simulation, settings: Settings = Settings()) {
        self.simulation = simulation
        self.settings = settings
        self.rng = Xoshiro256(seed: simulation.seed ^ 0x6761_7465_7761_7973)
        simulation.onEffect = { [unowned self] node, effect in self.dhtEffect(node, effect) }
    }

    // MARK: building

    /// Adds an island whose devices publish `devices` from the start and whose gateways boot
    /// at `bootTimes`; returns its index.
    @discardableResult
    public func addIsland(name: String, bootTimes: [Instant], devices: [ServiceInstance] = []) -> Int {
        let island = islands.count
        islands.append(Island(name: name))
        ledger.addIsland()
        for service in devices { publish(device: service, on: island) }
        for at in bootTimes { addGateway(island: island, bootAt: at) }
        return island
    }

    /// Adds a gateway to `island` that boots at `at`; returns its index.
    @discardableResult
    public func addGateway(island: Int, bootAt at: Instant, priority: UInt8 = 100) -> Int {
        let index = gateways.count
        let identity = Identity(using: &rng)
        let node = simulation.addNode(identity: identity, started: false)
        let machine = Self.makeMachine(identity: identity, network: simulation.networkID, priority: priority,
                                       islandName: islands[island].name, heartbeat: settings.heartbeatInterval,
                                       termFloor: at.nanoseconds / 1_000_000_000, seed: rng.next())
        gateways.append(Gateway(island: island, node: node, identity: identity, machine: machine))
        gatewayOfNode[node] = index
        islands[island].gateways.append(index)
        ledger.addGateway(index, island: island)
        simulation.schedule(at: at) { [unowned self] _ in self.boot(index) }
        return index
    }

    /// The one place machines are made (its initializer is the gateway's to change): open
    /// policy, every type exported and imported.
    static func makeMachine(identity: Identity, network: NetworkID, priority: UInt8, islandName: String,
                            heartbeat: Interval, termFloor: UInt64, seed: UInt64) -> GatewayMachine {
        var settings = GatewayMachine.Settings(id: identity.id, network: network, priority: priority,
                                               port: Self.dhtPort, islandName: islandName, seed: seed)
        settings.election.heartbeatInterval = heartbeat
        settings.election.termFloor = termFloor
        // As the daemon does: the run's start on the clock (here the boot's second).
        settings.election.incarnation = termFloor * 1000
        return GatewayMachine(settings: settings, policy: .permitAll)
    }

    static let dhtPort: UInt16 = 4000

    /// The configured seeds: the DHT endpoints of the seed islands' gateways (a gateway's
    /// own among them is left out).
    private var seedEndpoints: [Endpoint] {
        islands.prefix(settings.seedIslands).flatMap(\.gateways).map { Simulation.endpoint(of: gateways[$0].node) }
    }

    // MARK: scenario steps

    /// A device publishes (or changes) a service on `island`'s link.
    public func publish(device service: ServiceInstance, on island: Int) {
        islands[island].devices[service.id] = service
        ledger.deviceService(service, island: island)
        tell(island, islands[island].link.announce(service, by: nil))
    }

    /// A device withdraws a service (goodbye).
    public func withdraw(device id: ServiceID, on island: Int) {
        guard let service = islands[island].devices.removeValue(forKey: id) else { return }
        ledger.deviceServiceGone(service, island: island)
        if let change = islands[island].link.retract(id, by: nil) { tell(island, change) }
    }

    /// Stops a gateway as SIGTERM does (`GatewayDriver.shutDown`): it removes what it
    /// exported, its publications go with goodbyes, and its process exits once its removals
    /// are done (or after `stopTimeout`).
    public func stop(gateway index: Int) {
        guard gateways[index].state == .running else { return }
        let effects = gateways[index].machine.stop()
        gateways[index].state = .stopping
        for effect in effects {
            guard case .remove(let key, let valueID) = effect else { continue }
            for action in gateways[index].rendezvous.remove(key: key, valueID: valueID) {
                guard case .store(let write) = action else { continue }
                let request = newRequest()
                gateways[index].stopRequests.insert(request)
                simulation.command(gateways[index].node, .put(request, write.record(signedBy: gateways[index].identity, ttl: settings.recordTTL)))
            }
        }
        withdrawEverything(of: index)
        gateways[index].rendezvous.leave()
        if gateways[index].stopRequests.isEmpty {
            exit(index)
        } else {
            simulation.schedule(at: simulation.now + settings.stopTimeout) { [unowned self] _ in self.exit(index) }
        }
    }

    /// kill -9: nothing more is sent; Avahi withdraws the dead client's publications; the
    /// values it put stay in the DHT until they expire.
    public func kill(gateway index: Int) {
        guard gateways[index].state == .running || gateways[index].state == .stopping else { return }
        noteStepDown(index)
        gateways[index].state = .killed
        simulation.kill(gateways[index].node)
        withdrawEverything(of: index)
    }

    /// The island leaves for good: each gateway stops (or is killed), its devices go with it.
    public func remove(island: Int, graceful: Bool) {
        if !graceful { ledger.markKilled(island) }
        for gateway in islands[island].gateways {
            if graceful { stop(gateway: gateway) } else { kill(gateway: gateway) }
        }
        for id in islands[island].devices.keys.sorted() { withdraw(device: id, on: island) }
        islands[island].departed = true
    }

    /// Splits the wide-area network by `side(island)`; nil heals it. Links stay whole.
    public func partition(_ side: ((Int) -> Int)?) {
        partitionSide = side
        simulation.partition = [:]
        guard let side else { return }
        for gateway in gateways { simulation.partition[gateway.node] = side(gateway.island) }
    }

    // MARK: observations

    /// The island's running leaders (normally one).
    public func leaders(of island: Int) -> [Int] {
        islands[island].gateways.filter { gateways[$0].state == .running && gateways[$0].machine.role == .leader }
    }

    /// Islands present now (not departed).
    public var presentIslands: [Int] { islands.indices.filter { !islands[$0].departed } }

    /// Whether the island's link shows exactly every other present island's services; with
    /// `lingeringAllowed`, imports of killed islands' services aside (see `lingeringImports`).
    public func importsAreWhole(_ island: Int, lingeringAllowed: Bool = false) -> Bool {
        ledger.isWhole(island, lingeringAllowed: lingeringAllowed)
    }

    /// Imports of services no longer anywhere, over every present island, killed islands'
    /// aside.
    public var zombieImports: Int { presentIslands.reduce(0) { $0 + ledger.zombies[$1] } }

    /// Imports of the services of islands whose gateways were killed: nobody removed their
    /// values, so they stay until they expire (`Settings.recordTTL` after their last put).
    public var lingeringImports: Int { presentIslands.reduce(0) { $0 + ledger.lingering[$1] } }

    /// Imports that differ from the service they stand for (or stand for the island's own).
    public var staleImports: Int { presentIslands.reduce(0) { $0 + ledger.stale[$1] } }

    /// Imports on the island's link (every gateway's publications for other islands).
    public func importCount(_ island: Int) -> Int {
        ledger.good[island] + ledger.stale[island] + ledger.zombies[island] + ledger.lingering[island]
    }

    /// The key other islands import a service of `island` under (nil while the island has
    /// no id: no leader yet).
    public func importKey(of service: ServiceInstance, on island: Int) -> ImportKey? {
        ledger.islandIDs[island].map { ImportKey(island: $0, type: service.type, name: service.name) }
    }

    /// What an island's imports lack or get wrong (for failure messages; slow).
    public func differences(of island: Int) -> String { ledger.differences(of: island) }

    // MARK: running gateways

    func boot(_ index: Int) {
        guard gateways[index].state == .waiting, !islands[gateways[index].island].departed else { return }
        gateways[index].state = .running
        gateways[index].rendezvous = RendezvousClient(
            seeds: seedEndpoints.filter { $0 != Simulation.endpoint(of: gateways[index].node) },
            wallClockMilliseconds: simulation.now.nanoseconds / 1_000_000,
            configuration: .init(retryInterval: settings.retryInterval, replacement: .unplaced))
        let node = gateways[index].node
        simulation.start(node)
        if let side = partitionSide { simulation.partition[node] = side(gateways[index].island) }
        // The first browse: everything on the link, mdnsDelay later.
        let island = gateways[index].island
        let present = islands[island].link.visible.sorted { $0.service.id < $1.service.id }
        if !present.isEmpty {
            simulation.schedule(at: simulation.now + settings.mdnsDelay) { [unowned self] _ in
                for entry in present { self.feed(index, .local(.added(SimulatedLink.discovered(entry, by: index)))) }
            }
        }
        feed(index, .tick)
    }

    func feed(_ index: Int, _ event: GatewayMachine.Event) {
        guard gateways[index].state == .running else { return }
        let effects = gateways[index].machine.handle(event, now: simulation.now)
        for effect in effects { perform(effect, by: index) }
        scheduleTick(index)
    }

    func scheduleTick(_ index: Int) {
        guard let deadline = gateways[index].machine.nextDeadline else { return }
        if let at = gateways[index].tickAt, at <= deadline, at >= simulation.now { return }
        let at = max(deadline, simulation.now)
        gateways[index].tickAt = at
        simulation.schedule(at: at) { [unowned self] _ in
            guard self.gateways[index].tickAt == at else { return }
            self.gateways[index].tickAt = nil
            self.feed(index, .tick)
        }
    }

    func perform(_ effect: GatewayMachine.Effect, by index: Int) {
        let island = gateways[index].island
        switch effect {
        case .sendHeartbeat(let bytes, let endpoint):
            heartbeatBytes += bytes.count + simulation.network.headerBytes
            guard let node = simulation.index(of: endpoint), let target = gatewayOfNode[node],
                  gateways[target].island == island else { return }
            let from = Simulation.endpoint(of: gateways[index].node)
            simulation.schedule(at: simulation.now + settings.lanLatency) { [unowned self] _ in
                self.feed(target, .heartbeat(bytes, from: from))
            }
        case .advertise(let publication):
            let service = ServiceInstance(name: publication.name, type: publication.type, host: Self.hostName(of: index),
                                          port: publication.port, txt: publication.txt,
                                          addresses: [Self.address(of: gateways[index].node)])
            gateways[index].advert = service.id
            tell(island, islands[island].link.announce(service, by: index))
        case .publish(let key, let publication), .update(let key, let publication):
            guard case .synthesized(let host, let addresses) = publication.host else { return }
            if let previous = gateways[index].publications[key], previous.name != publication.name {
                retract(ServiceID(name: previous.name, type: previous.type), by: index)
            }
            gateways[index].publications[key] = publication
            ledger.imported(key, publication, island: island, gateway: index)
            let service = ServiceInstance(name: publication.name, type: publication.type, host: host, port: publication.port,
                                          txt: publication.txt, subtypes: publication.subtypes, addresses: addresses)
            tell(island, islands[island].link.announce(service, by: index))
        case .withdraw(let key):
            guard let publication = gateways[index].publications.removeValue(forKey: key) else { return }
            ledger.withdrawn(key, island: island, gateway: index)
            retract(ServiceID(name: publication.name, type: publication.type), by: index)
        case .joinRendezvous:
            gateways[index].rendezvous.join(now: simulation.now)
            scheduleRound(index)
        case .leaveRendezvous:
            gateways[index].rendezvous.leave()
        case .seedRendezvous(let endpoints):
            gateways[index].rendezvous.addSeeds(endpoints, now: simulation.now)
            scheduleRound(index)
        case .put(let key, let valueID, let payload):
            carryOut(gateways[index].rendezvous.put(key: key, valueID: valueID, payload: payload), for: index)
        case .remove(let key, let valueID):
            carryOut(gateways[index].rendezvous.remove(key: key, valueID: valueID), for: index)
        case .subscribe(let key):
            carryOut(gateways[index].rendezvous.subscribe(key), for: index)
        case .unsubscribe(let key):
            carryOut(gateways[index].rendezvous.unsubscribe(key), for: index)
        case .fact(.transition(let transition)):
            transitioned(index, transition)
        default:
            break // persistIsland and the other facts: nothing to carry out here
        }
    }

    func transitioned(_ index: Int, _ transition: Election.Transition) {
        let island = gateways[index].island
        let leads = transition.role == .leader
        let led = leaderChanges.last { $0.gateway == index }?.leads ?? false
        if leads != led {
            leaderChanges.append(LeaderChange(island: island, gateway: index, at: simulation.now, leads: leads))
        }
        if leads, let id = transition.island {
            let services = islands[island].devices.values.sorted { $0.id < $1.id }
            ledger.setIslandID(id, island: island, services: services)
        }
    }

    func noteStepDown(_ index: Int) {
        if leaderChanges.last(where: { $0.gateway == index })?.leads == true {
            leaderChanges.append(LeaderChange(island: gateways[index].island, gateway: index, at: simulation.now, leads: false))
        }
    }
}
