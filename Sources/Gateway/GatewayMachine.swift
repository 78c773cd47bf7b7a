import DNSSD
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous
import SIP

/// One gateway's whole protocol logic as a pure state machine: the island election, what to
/// export, what to import, and which rendezvous keys to watch. The daemon's adapter feeds
/// it events (local services, heartbeats, rendezvous changes, ticks) and carries out its
/// effects; the simulator runs hundreds of them on virtual time.
///
/// Its decisions come out as facts (`Effect.fact`: exported, imported, held and why, which
/// rule decided, transitions, stages) and its state is read through one narrow view
/// (`view`); everything the daemon reports is built from those two.
///
/// Who does what:
/// - every gateway advertises itself (`_z2z._udp`) and takes part in the election;
/// - only the leader joins the rendezvous, exports, subscribes and imports; a gateway that
///   stops leading deletes its exports and withdraws its imports (the new leader takes over);
/// - the leader watches the `directory` key to learn the islands and their types, and
///   subscribes to every type some other island exports and the policy lets in.
public struct GatewayMachine: Sendable {
    public struct Settings: Sendable {
        public var id: NodeID
        public var network: NetworkID
        public var priority: UInt8
        /// The UDP port of heartbeats and the DHT.
        public var port: UInt16
        /// The island id remembered from an earlier run.
        public var island: IslandID?
        /// The island's human name; defaults to its id.
        public var islandName: String?
        public var election = Election.Configuration()
        public var seed: UInt64
        /// Authenticates heartbeats (`HeartbeatCodec`); nil: open mode.
        public var networkKey: NetworkKey?
        /// What this gateway offers, while it leads, for relaying its island's exports to
        /// islands that cannot reach them (issue 14); nil: no relay.
        public var relayOffer: RelayOffer?
        /// When imports go through the relay (`RelayDecision`); off: never, as before the relay.
        public var relayMode = RelayMode.off
        /// This island's LAN prefixes, and this gateway's own LAN addresses (where it
        /// publishes relayed imports).
        public var localPrefixes: [IPPrefix] = []
        public var localAddresses: [IPAddress] = []
        /// Islands whose services reach this gateway's link another way — a router's other
        /// links that the router leads, which exchange records in process (`LinkExchange`):
        /// never imported from the rendezvous (that would publish them twice), and their types
        /// not followed for them. `setSiblingIslands` changes them as the router's link
        /// gateways win and lose their links.
        public var siblingIslands: Set<IslandID> = []

        public init(id: NodeID, network: NetworkID, priority: UInt8, port: UInt16, island: IslandID? = nil,
                    islandName: String? = nil, seed: UInt64) {
            self.id = id
            self.network = network
            self.priority = priority
            self.port = port
            self.island = island
            self.islandName = islandName
            self.seed = seed
        }
    }

    public enum Event: Sendable {
        case local(LocalDomainEvent)
        /// A datagram that starts with the heartbeat magic.
        case heartbeat([UInt8], from: Endpoint)
        case rendezvous(RendezvousChange)
        /// The overlay's own stage, as the rendezvous reports it (`bootstrapping`: it knows nobody).
        case overlay(Stage)
        /// The local domain renamed one of our imports after a collision.
        case importRenamed(ImportKey, InstanceName)
        /// A connect probe asked by `Effect.relay(.probe)` answered.
        case probed(ImportKey, reachable: Bool)
        /// The relay listener asked by `Effect.relay(.openRelay)` listens on `port`; nil: it
        /// could not be opened, and why.
        case relayOpened(ImportKey, port: UInt16?, failure: String?)
        case tick
    }

    public enum Effect: Hashable, Sendable {
        case sendHeartbeat([UInt8], to: Endpoint)
        /// Announce this gateway on the link (once, at start).
        case advertise(Publication)
        case publish(ImportKey, Publication)
        case update(ImportKey, Publication)
        case withdraw(ImportKey)
        /// Start taking part in the rendezvous (became leader).
        case joinRendezvous
        /// Stop taking part (no longer leader); everything put has been removed before.
        case leaveRendezvous
        /// Other gateways of this island (where their DHT nodes listen), for the rendezvous to
        /// join through while this one leads. Every gateway's DHT node answers, leader or not,
        /// so another island seeded only with one of our followers forms an overlay with it;
        /// joining through our followers brings that overlay and ours together (the DHT nodes
        /// merge them). Given when the gateway starts leading and whenever it learns of
        /// another gateway while leading (one that sent a tagged heartbeat: an advert alone is
        /// not enough); each endpoint once per leadership.
        case seedRendezvous([Endpoint])
        case put(RecordKey, valueID: UInt64, payload: [UInt8])
        case remove(RecordKey, valueID: UInt64)
        case subscribe(RecordKey)
        case unsubscribe(RecordKey)
        /// Remember the island id in the state directory.
        case persistIsland(IslandID)
        /// What was decided or seen, for events, metrics and the reports (`GatewayFact`).
        case fact(GatewayFact)
        /// What the relay needs from the daemon: a connect probe, a relay listener opened or closed.
        case relay(RelayEffect)
    }

    public private(set) var settings: Settings
    var election: Election
    /// Refuses copies of heartbeats already taken (captured and replayed on the link).
    var replayGuard = ReplayGuard()
    var export: ExportPlanner
    var imports: ImportPlanner
    /// Islands as the directory tells them, with the types each exports.
    var directory: [ValueSlot: IslandDirectoryEntry] = [:]
    /// When each directory value arrived (a counter): between two entries of one island with
    /// the same term, the later one names the leader.
    var directoryArrivals: [ValueSlot: UInt64] = [:]
    var arrivals: UInt64 = 0
    var subscribedTypes: Set<ServiceType> = []
    var started = false
    /// Which gateway each `_z2z._udp` service on the link belongs to.
    var advertisers: [ServiceID: NodeID] = [:]
    var persistedIsland: IslandID?
    var publishedDirectory: IslandDirectoryEntry?
    /// The overlay's stage as last reported, and the island's stage as last stated.
    var overlayStage = Stage.bootstrapping
    var stage = Stage.bootstrapping
    /// The local responder's connection as last reported.
    var responder = ConnectionState.connecting("starting")
    /// Island gateways given to the rendezvous as seeds during this leadership.
    var seededGateways: Set<Endpoint> = []
    /// The AoR each exported SIP UA is bound under (`sip/<AoR>`), by its value id.
    var sipBindings: [UInt64: SIPAddressOfRecord] = [:]

    /// - Parameter policy: which services cross (`PolicyGate`); `setPolicy` replaces it.
    public init(settings: Settings, policy: Policy = .permitAll) {
        self.settings = settings
        election = Election(id: settings.id, network: settings.network, priority: settings.priority, port: settings.port,
                            island: settings.island, configuration: settings.election, seed: settings.seed)
        persistedIsland = settings.island
        export = ExportPlanner(gate: PolicyGate(policy: policy))
        imports = ImportPlanner(gate: PolicyGate(policy: policy))
        _ = export.identify(island: settings.island, name: islandName)
        _ = imports.identify(island: settings.island, name: islandName)
        _ = imports.setSiblingIslands(settings.siblingIslands)
        _ = export.setRelayOffer(settings.relayOffer)
        _ = imports.setRelay(mode: settings.relayMode, localPrefixes: settings.localPrefixes, leaderAddresses: settings.localAddresses)
    }

    public var role: Role { election.role }
    public var island: IslandID? { election.island }
    /// The island's name as other islands see it: the configured one, else its id's first eight digits.
    public var islandName: String { settings.islandName ?? island.map { String($0.description.prefix(8)) } ?? "" }
    public var nextDeadline: Instant? {
        [election.nextDeadline, export.nextDeadline, imports.nextDeadline].compactMap { $0 }.min()
    }
    /// The machine as the reports read it.
    public var view: GatewayView { GatewayView(self) }

    /// The current leader of each island in the directory: the owner of its entry with the
    /// highest term (the later one on a tie). A leader killed with SIGKILL leaves its entry
    /// behind; its successor claims a higher term.
    public var islandLeaders: [IslandID: NodeID] {
        var best: [IslandID: (owner: NodeID, rank: (UInt64, UInt64))] = [:]
        for (slot, entry) in directory {
            let rank = (entry.term, directoryArrivals[slot] ?? 0)
            if let current = best[entry.island], current.rank >= rank { continue }
            best[entry.island] = (slot.owner, rank)
        }
        return best.mapValues(\.owner)
    }

    public mutating func handle(_ event: Event, now: Instant) -> [Effect] {
        var effects: [Effect] = []
        if !started {
            started = true
            effects.append(.advertise(advert))
        }
        switch event {
        case .local(let local):
            effects += linkFacts(local)
            effects += electionInput(from: local, now: now)
            effects += exportEffects(export.observe(local, now: now))
            effects += importEffects(imports.observe(local))
        case .heartbeat(let bytes, let endpoint):
            do throws(HeartbeatRejection) {
                let beat = try HeartbeatCodec.decode(bytes, key: settings.networkKey)
                if let refusal = replayGuard.admit(beat) { throw refusal }
                effects += electionEffects(election.handle(.heartbeat(beat, from: endpoint), now: now))
            } catch {
                effects.append(.fact(.rejected(reason: "heartbeat_\(error.reason)", detail: "from \(endpoint)")))
            }
        case .rendezvous(let change):
            effects += rendezvousChanged(change, now: now)
        case .overlay(let stage):
            overlayStage = stage
        case .importRenamed(let key, let name):
            imports.renamed(key, to: name)
        case .probed(let key, let reachable):
            effects += importEffects(imports.probed(key, reachable: reachable))
        case .relayOpened(let key, let port, let failure):
            effects += importEffects(imports.relayOpened(key, port: port, failure: failure))
        case .tick:
            effects += electionEffects(election.handle(.tick, now: now))
            effects += exportEffects(export.tick(now: now))
            effects += importEffects(imports.tick(now: now))
        }
        effects += seedRendezvous()
        effects += restage()
        return effects
    }

    /// The island's stage, decided in one place (`Stage.of`) from the election and the overlay.
    mutating func restage() -> [Effect] {
        let now = Stage.of(leaderElected: election.leader != nil, leading: role == .leader, overlay: overlayStage)
        guard now != stage else { return [] }
        stage = now
        return [.fact(.stage(now))]
    }

    /// Hosts' services coming and going, and the responder's connection.
    mutating func linkFacts(_ event: LocalDomainEvent) -> [Effect] {
        switch event {
        case .added(let service), .changed(let service):
            guard service.isPublishedByAHost, service.instance.type != GatewayAdvert.serviceType else { return [] }
            let previous = export.services[service.id]
            guard previous != service else { return [] }
            return [.fact(.serviceSeen(service, new: previous?.isPublishedByAHost != true))]
        case .removed(let id):
            guard let gone = export.services[id], gone.isPublishedByAHost, gone.instance.type != GatewayAdvert.serviceType
            else { return [] }
            return [.fact(.serviceGone(gone))]
        case .connection(let state):
            guard state != responder else { return [] }
            responder = state
            return [.fact(.responder(state))]
        case .ignored, .settled, .publication:
            return []
        }
    }

    /// While leading: the island's gateways not yet given to the rendezvous as seeds.
    mutating func seedRendezvous() -> [Effect] {
        guard export.isActive else { return [] }
        // Only gateways that sent a tagged heartbeat: an advert alone proves nothing (anyone
        // on the link can publish one naming any address; issue 18, point 6).
        let heard = election.peers.values.filter { $0.lastHeard != nil }
        let fresh = Set(heard.map(\.endpoint)).subtracting(seededGateways)
        guard !fresh.isEmpty else { return [] }
        seededGateways.formUnion(fresh)
        return [.seedRendezvous(fresh.sorted { $0.description < $1.description })]
    }

    /// This gateway's LAN as the daemon found it: its prefixes (the overlap check), its own
    /// addresses (where relayed imports are published) and the relay offer made on exports
    /// (nil: no relay). Exports and imports are re-decided.
    public mutating func setRelayNetwork(offer: RelayOffer?, localPrefixes: [IPPrefix], localAddresses: [IPAddress]) -> [Effect] {
        settings.localPrefixes = localPrefixes
        settings.localAddresses = localAddresses
        return setRelayOffer(offer)
            + importEffects(imports.setRelay(mode: settings.relayMode, localPrefixes: localPrefixes, leaderAddresses: localAddresses))
    }

    /// A new relay offer (the gateway's addresses changed, or a reload): exports are re-decided,
    /// and the directory entry is published again — it names the relay's endpoints, which other
    /// leaders dial as a circuit relay even when this island exports nothing.
    public mutating func setRelayOffer(_ offer: RelayOffer?) -> [Effect] {
        settings.relayOffer = offer
        return exportEffects(export.setRelayOffer(offer)) + publishDirectory()
    }

    /// Islands whose services now reach the link another way (`Settings.siblingIslands`, a
    /// router's links whose gateways lead them): their imports are withdrawn, and an island
    /// that is no longer one is imported from the rendezvous again.
    public mutating func setSiblingIslands(_ islands: Set<IslandID>) -> [Effect] {
        guard islands != settings.siblingIslands else { return [] }
        settings.siblingIslands = islands
        return importEffects(imports.setSiblingIslands(islands)) + reconcileSubscriptions()
    }

    /// New policy from a configuration reload: exports and imports are re-decided.
    public mutating func setPolicy(_ policy: Policy) -> [Effect] {
        exportEffects(export.setPolicy(policy)) + importEffects(imports.setPolicy(policy)) + reconcileSubscriptions()
    }

    /// The gateway is shutting down: the removals of everything it exported (its directory
    /// entry included), so other islands drop them now rather than at expiry. Its local
    /// publications are withdrawn by the adapter directly.
    public mutating func stop() -> [Effect] {
        guard export.isActive else { return [] }
        var effects = exportEffects(export.deactivate()).filter { if case .remove = $0 { true } else { false } }
        if publishedDirectory != nil {
            effects.append(.remove(RecordKeys.directory(network: settings.network), valueID: 0))
            publishedDirectory = nil
        }
        _ = imports.deactivate()
        return effects
    }
}
