import DNSSD
import Island
import Kademlia
import LocalDomain
import Rendezvous
import SIP

/// One gateway's whole protocol logic as a pure state machine: the island election, what to
/// export, what to import, and which rendezvous keys to watch. The daemon's adapter feeds
/// it events (local services, heartbeats, rendezvous changes, ticks) and carries out its
/// effects; the simulator runs hundreds of them on virtual time.
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
        /// The local domain renamed one of our imports after a collision.
        case importRenamed(ImportKey, InstanceName)
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
        /// another gateway while leading; each endpoint once per leadership.
        case seedRendezvous([Endpoint])
        case put(RecordKey, valueID: UInt64, payload: [UInt8])
        case remove(RecordKey, valueID: UInt64)
        case subscribe(RecordKey)
        case unsubscribe(RecordKey)
        /// Remember the island id in the state directory.
        case persistIsland(IslandID)
        case transition(Election.Transition)
        case exportSkipped(ServiceID, ExportSkip)
        /// Input refused (bad heartbeat, bad record); for counters and debug logs.
        case rejected(String, detail: String)
    }

    public let settings: Settings
    public private(set) var election: Election
    public private(set) var export: ExportPlanner
    public private(set) var imports: ImportPlanner
    /// Islands as the directory tells them, with the types each exports.
    public private(set) var directory: [ValueSlot: IslandDirectoryEntry] = [:]
    /// When each directory value arrived (a counter): between two entries of one island with
    /// the same term, the later one names the leader.
    private var directoryArrivals: [ValueSlot: UInt64] = [:]
    private var arrivals: UInt64 = 0
    public private(set) var subscribedTypes: Set<ServiceType> = []
    private var started = false
    /// Which gateway each `_z2z._udp` service on the link belongs to.
    private var advertisers: [ServiceID: NodeID] = [:]
    private var persistedIsland: IslandID?
    private var exportPermission: ExportPlanner.Permission
    private var importPermission: ImportPlanner.Permission
    private var publishedDirectory: IslandDirectoryEntry?
    /// Island gateways given to the rendezvous as seeds during this leadership.
    private var seededGateways: Set<Endpoint> = []
    /// The AoR each exported SIP UA is bound under (`sip/<AoR>`), by its value id.
    private var sipBindings: [UInt64: SIPAddressOfRecord] = [:]

    public init(settings: Settings, exportPermission: @escaping ExportPlanner.Permission,
                importPermission: @escaping ImportPlanner.Permission) {
        self.settings = settings
        self.exportPermission = exportPermission
        self.importPermission = importPermission
        election = Election(id: settings.id, network: settings.network, priority: settings.priority, port: settings.port,
                            island: settings.island, configuration: settings.election, seed: settings.seed)
        persistedIsland = settings.island
        export = ExportPlanner(permission: exportPermission)
        imports = ImportPlanner(permission: importPermission)
    }

    public var role: Role { election.role }
    public var island: IslandID? { election.island }
    public var islandName: String { settings.islandName ?? island.map { String($0.description.prefix(8)) } ?? "" }
    public var nextDeadline: Instant? {
        [election.nextDeadline, export.nextDeadline, imports.nextDeadline].compactMap { $0 }.min()
    }

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
            effects += electionInput(from: local, now: now)
            effects += exportEffects(export.observe(local, now: now))
            effects += importEffects(imports.observe(local))
        case .heartbeat(let bytes, let endpoint):
            do {
                let beat = try HeartbeatCodec.decode(bytes, key: settings.networkKey)
                effects += electionEffects(election.handle(.heartbeat(beat, from: endpoint), now: now))
            } catch {
                effects.append(.rejected("heartbeat_\(error.reason)", detail: "from \(endpoint)"))
            }
        case .rendezvous(let change):
            effects += rendezvousChanged(change, now: now)
        case .importRenamed(let key, let name):
            imports.renamed(key, to: name)
        case .tick:
            effects += electionEffects(election.handle(.tick, now: now))
            effects += exportEffects(export.tick(now: now))
            effects += importEffects(imports.tick(now: now))
        }
        effects += seedRendezvous()
        return effects
    }

    /// While leading: the island's gateways not yet given to the rendezvous as seeds.
    private mutating func seedRendezvous() -> [Effect] {
        guard export.isActive else { return [] }
        let fresh = Set(election.peers.values.map(\.endpoint)).subtracting(seededGateways)
        guard !fresh.isEmpty else { return [] }
        seededGateways.formUnion(fresh)
        return [.seedRendezvous(fresh.sorted { $0.description < $1.description })]
    }

    /// New policy from a configuration reload: exports and imports are re-decided.
    public mutating func setPolicy(export exportPermission: @escaping ExportPlanner.Permission,
                                   import importPermission: @escaping ImportPlanner.Permission) -> [Effect] {
        self.exportPermission = exportPermission
        self.importPermission = importPermission
        return exportEffects(export.setPermission(exportPermission))
            + importEffects(imports.setPermission(importPermission)) + reconcileSubscriptions()
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

    // MARK: island

    /// "z2z gateway 1a2b3c4d5e6f": short ASCII from our own id, always a valid name.
    private var advert: Publication {
        guard let name = try? InstanceName("z2z gateway \(String(settings.id.description.prefix(12)))") else {
            preconditionFailure("a 24-byte ASCII name is valid")
        }
        let txt = GatewayAdvert(id: settings.id, priority: settings.priority, port: settings.port, network: settings.network).txt
        return Publication(name: name, type: GatewayAdvert.serviceType, port: settings.port, txt: txt)
    }

    /// `_z2z._udp` services on the link are other gateways: feed them to the election.
    private mutating func electionInput(from event: LocalDomainEvent, now: Instant) -> [Effect] {
        switch event {
        case .added(let service), .changed(let service):
            guard service.instance.type == GatewayAdvert.serviceType else { return [] }
            guard case .success(let advert) = GatewayAdvert.parse(service.instance.txt) else {
                return [.rejected("advert_malformed", detail: "\(service.id)")]
            }
            guard advert.network == settings.network, advert.id != settings.id else { return [] }
            guard let address = Self.bestAddress(service) else { return [] }
            advertisers[service.id] = advert.id
            return electionEffects(election.handle(.advertised(advert.id, Endpoint(address: address, port: advert.port),
                                                                priority: advert.priority), now: now))
        case .removed(let id):
            guard let peer = advertisers.removeValue(forKey: id) else { return [] }
            return electionEffects(election.handle(.withdrawn(peer), now: now))
        default:
            return []
        }
    }

    /// The address to send heartbeats to: a routable IPv4 address first, then any IPv4, then IPv6.
    static func bestAddress(_ service: DiscoveredService) -> Endpoint.Address? {
        let addresses = service.instance.addresses
        let ranked = addresses.filter { $0.isIPv4 && $0.isRoutable } + addresses.filter { $0.isIPv4 && !$0.isRoutable }
            + addresses.filter { !$0.isIPv4 && $0.isRoutable }
        guard let best = ranked.first else { return nil }
        switch best {
        case .v4(let value): return .v4(value)
        case .v6(let high, let low): return .v6(high, low)
        }
    }

    private mutating func electionEffects(_ outputs: [Election.Output]) -> [Effect] {
        var effects: [Effect] = []
        for output in outputs {
            switch output {
            case .send(let beat, let endpoint):
                effects.append(.sendHeartbeat(HeartbeatCodec.encode(beat, key: settings.networkKey), to: endpoint))
            case .changed(let transition):
                effects.append(.transition(transition))
                effects += roleChanged(transition)
            }
        }
        return effects
    }

    private mutating func roleChanged(_ transition: Election.Transition) -> [Effect] {
        var effects: [Effect] = []
        if let island = transition.island, island != persistedIsland {
            persistedIsland = island
            effects.append(.persistIsland(island))
        }
        let leading = transition.role == .leader
        if leading, !export.isActive, let island = transition.island {
            effects.append(.joinRendezvous)
            effects.append(.subscribe(RecordKeys.directory(network: settings.network)))
            effects += exportEffects(export.activate(island: island, name: islandName))
            effects += importEffects(imports.activate(localIsland: island))
            effects += publishDirectory()
        } else if !leading, export.isActive {
            effects += exportEffects(export.deactivate())
            effects += importEffects(imports.deactivate())
            if publishedDirectory != nil {
                effects.append(.remove(RecordKeys.directory(network: settings.network), valueID: 0))
                publishedDirectory = nil
            }
            effects.append(.unsubscribe(RecordKeys.directory(network: settings.network)))
            for type in subscribedTypes.sorted() { effects.append(.unsubscribe(RecordKeys.type(type, network: settings.network))) }
            subscribedTypes = []
            directory = [:]
            directoryArrivals = [:]
            seededGateways = []
            effects.append(.leaveRendezvous)
        }
        return effects
    }

    // MARK: export

    private mutating func exportEffects(_ planned: [ExportEffect]) -> [Effect] {
        var effects: [Effect] = []
        var typesChanged = false
        for effect in planned {
            switch effect {
            case .put(let record):
                let valueID = RecordKeys.valueID(of: record.name, type: record.type)
                let payload = ServiceRecordCodec.encode(record)
                effects.append(.put(RecordKeys.type(record.type, network: settings.network), valueID: valueID, payload: payload))
                effects += bindSIP(SIPBinding.addressOfRecord(of: record), valueID: valueID, payload: payload)
                typesChanged = true
            case .remove(let type, let name):
                let valueID = RecordKeys.valueID(of: name, type: type)
                effects.append(.remove(RecordKeys.type(type, network: settings.network), valueID: valueID))
                effects += bindSIP(nil, valueID: valueID, payload: [])
                typesChanged = true
            case .skipped(let id, let skip):
                effects.append(.exportSkipped(id, skip))
            }
        }
        if typesChanged, export.isActive { effects += publishDirectory() }
        return effects
    }

    /// Moves an exported UA's `sip/<AoR>` binding along with its record: put under the AoR it
    /// announces now, removed from the one it announced before (a TXT change can move it).
    private mutating func bindSIP(_ addressOfRecord: SIPAddressOfRecord?, valueID: UInt64, payload: [UInt8]) -> [Effect] {
        var effects: [Effect] = []
        let previous = sipBindings[valueID]
        if let previous, previous != addressOfRecord {
            effects.append(.remove(RecordKeys.sip(previous, network: settings.network), valueID: valueID))
        }
        sipBindings[valueID] = addressOfRecord
        if let addressOfRecord {
            effects.append(.put(RecordKeys.sip(addressOfRecord, network: settings.network), valueID: valueID, payload: payload))
        }
        return effects
    }

    /// This island's directory value: its name and the types it exports.
    private mutating func publishDirectory() -> [Effect] {
        guard export.isActive, let island else { return [] }
        let entry = IslandDirectoryEntry(island: island, name: islandName, leader: settings.id,
                                         types: Array(Set(export.exported.keys.map(\.type))).sorted(),
                                         services: export.exported.count, term: election.term)
        guard entry != publishedDirectory else { return [] }
        publishedDirectory = entry
        return [.put(RecordKeys.directory(network: settings.network), valueID: 0, payload: IslandDirectoryCodec.encode(entry))]
    }

    // MARK: import

    private mutating func rendezvousChanged(_ change: RendezvousChange, now: Instant) -> [Effect] {
        guard export.isActive else { return [] }
        let directoryKey = RecordKeys.directory(network: settings.network)
        switch change {
        case .upserted(let value) where value.key == directoryKey:
            guard let entry = try? IslandDirectoryCodec.decode(value.payload) else {
                return [.rejected("directory_malformed", detail: "owner \(value.owner)")]
            }
            arrivals += 1
            directory[value.slot] = entry
            directoryArrivals[value.slot] = arrivals
            return reconcileSubscriptions() + importEffects(imports.setLeaders(islandLeaders, now: now))
        case .removed(let key, let slot) where key == directoryKey:
            directory[slot] = nil
            directoryArrivals[slot] = nil
            return reconcileSubscriptions() + importEffects(imports.setLeaders(islandLeaders, now: now))
        case .upserted(let value):
            do {
                let record = try ServiceRecordCodec.decode(value.payload)
                guard value.key == RecordKeys.type(record.type, network: settings.network) else {
                    return [.rejected("record_under_wrong_key", detail: "\(record.id)")]
                }
                return importEffects(imports.apply(record, from: value.slot))
            } catch {
                return [.rejected("record_\(error.reason)", detail: "owner \(value.owner)")]
            }
        case .removed(_, let slot):
            return importEffects(imports.remove(slot))
        }
    }

    /// Subscribe to every type another island exports that the policy may let in; a type no
    /// longer followed takes its imports with it (`ImportPlanner.forget(type:)`).
    private mutating func reconcileSubscriptions() -> [Effect] {
        guard export.isActive else { return [] }
        var wanted = Set<ServiceType>()
        for entry in directory.values where entry.island != island {
            for type in entry.types where importPermission(type, entry.island, entry.name) { wanted.insert(type) }
        }
        let added = wanted.subtracting(subscribedTypes).sorted()
        let dropped = subscribedTypes.subtracting(wanted).sorted()
        subscribedTypes = wanted
        return added.map { .subscribe(RecordKeys.type($0, network: settings.network)) }
            + dropped.flatMap { [.unsubscribe(RecordKeys.type($0, network: settings.network))] + importEffects(imports.forget(type: $0)) }
    }

    /// Mutating although it changes nothing: its calls take the planner's mutation as their
    /// argument (`importEffects(imports.apply(...))`), and a non-mutating method's `self` is
    /// loaded before that argument runs — a copy of the whole machine, after which the
    /// planner's tables are copied on write: a copy of every import per import.
    private mutating func importEffects(_ planned: [ImportEffect]) -> [Effect] {
        planned.map { effect in
            switch effect {
            case .publish(let key, let publication): .publish(key, publication)
            case .update(let key, let publication): .update(key, publication)
            case .withdraw(let key): .withdraw(key)
            }
        }
    }
}
