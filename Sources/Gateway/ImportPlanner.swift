import DNSSD
import Island
import LocalDomain
import Policy
import Primitives
import SIP
import Rendezvous

/// Decides what a leader publishes on its link for services of other islands. Pure: the
/// gateway feeds it rendezvous changes and local-domain events and carries out its effects.
///
/// - Each remote instance is published with its own name, type, subtypes, port and TXT,
///   on a synthesized host (`SynthesizedHost`) whose addresses are the remote host's.
/// - The leader sees every name on its link, so it picks a free name before it announces
///   (and announces without probing): the remote name when free, else the name with a
///   suffix naming the island ("Office Printer (island-b)"). Services that share a name on
///   different islands are never renamed on their own island — the import yields, also
///   when a local service with its name appears later.
/// - Values of this island, and instances the policy denies, are not imported.
/// - Per island, only the values of its current leader (as the directory names it,
///   `setLeaders`) count. A leader killed with SIGKILL leaves its values in the DHT until
///   they expire (minutes); they would otherwise hide what its successor withdraws. During
///   a handover (`handoverGrace` after a new leader is named) an instance the new leader has
///   not published yet keeps the old leader's value, so a failover does not flap services;
///   once the new leader has published an instance, or the grace is over, the old leader's
///   values no longer count. For an island the directory names no leader of, the newest
///   value of any owner counts, and the instance goes only when the last one goes.
///
/// Known trade-off: a link split in two gives one island id with two leaders; importers
/// follow the one with the higher term, so the other half's services are not imported
/// until the halves meet again (they stay visible on their own link).
public struct ImportPlanner: Sendable {
    /// An import published on the link: the record it came as, and its publication.
    public struct Imported: Hashable, Sendable {
        public var record: ServiceRecord
        public var publication: Publication
        /// Why it is published on this leader's relay port instead of the service's own
        /// addresses; nil: direct.
        public var relayed: RelayReason? = nil
        /// The exporting leader whose relay carries it (the owner of the value), when relayed.
        public var relayLeader: NodeID? = nil
    }

    /// Who leads a remote island now, as far as the importer takes its values.
    public struct Leadership: Hashable, Sendable {
        public var leader: NodeID
        /// Until then, instances the leader has not published keep older owners' values.
        public var handoverUntil: Instant?
        /// Instances the leader has held a value for since it was named: once it has, other
        /// owners' values for them never count again (its removal is a withdrawal).
        public var published: Set<ImportKey> = []
    }

    /// How long older owners' values stand in for a new leader's (it republishes every
    /// export at once when it takes over; this covers that, not a lost store).
    public static let handoverGrace = Interval.seconds(15)

    private(set) var localIsland: IslandID?
    private(set) var isActive = false
    /// Remote values by instance, then by the slot (owner, value id) that holds them.
    private(set) var remote: [ImportKey: [ValueSlot: (record: ServiceRecord, serial: UInt64)]] = [:]
    /// What is published on the link now.
    private(set) var imports: [ImportKey: Imported] = [:]
    /// Remote instances received and not published, with why.
    private(set) var held: [ImportKey: ImportHold] = [:]
    /// Names on the link that are not ours, by type (canonical form).
    private var localNames: [ServiceType: [String: Int]] = [:]
    private var localServices: [ServiceID: String] = [:]
    private var slotIndex: [ValueSlot: ImportKey] = [:]
    /// Indexes that keep each step proportional to what it touches, not to everything
    /// imported (an island importing 10,000 services): the names our imports hold, by type
    /// (canonical form, with counts); `slotIndex`'s slots by owner; the keys of `remote` and
    /// `imports` by island.
    private var importNames: [ServiceType: [String: Int]] = [:]
    private var slotsByOwner: [NodeID: Set<ValueSlot>] = [:]
    private var keysByIsland: [IslandID: Set<ImportKey>] = [:]
    /// Current leaders of remote islands (`setLeaders`).
    private(set) var leaders: [IslandID: Leadership] = [:]
    private var serial: UInt64 = 0
    /// The policy; import verdicts name the island a service comes from.
    private(set) var gate: PolicyGate
    /// How each import reaches its service: directly, or through the leaders' relay.
    private(set) var relays = ImportRelays()

    public init(gate: PolicyGate = PolicyGate()) {
        self.gate = gate
    }

    // MARK: inputs

    public mutating func activate(localIsland: IslandID) -> [ImportEffect] {
        self.localIsland = localIsland
        isActive = true
        return reconcileAll()
    }

    /// No longer the leader: withdraw everything (the new leader publishes it).
    public mutating func deactivate() -> [ImportEffect] {
        isActive = false
        leaders = [:]
        nextDeadline = nil
        held = [:]
        let withdrawals = imports.sorted { $0.key < $1.key }.map { ImportEffect.withdraw($0.key, $0.value) }
        imports = [:]
        importNames = [:]
        return withdrawals
    }

    /// A new policy: imports are re-decided.
    public mutating func setPolicy(_ policy: Policy) -> [ImportEffect] {
        gate.policy = policy
        return reconcileAll()
    }

    /// This island, the destination of its imports (rules naming `to`): imports are re-decided.
    public mutating func identify(island: IslandID?, name: String) -> [ImportEffect] {
        let subject = PolicyIsland(id: island?.rawValue, name: name.isEmpty ? nil : name)
        guard subject != gate.island else { return [] }
        gate.island = subject
        return reconcileAll()
    }

    /// The relay's settings (issue 14): its mode, this island's LAN prefixes, and this
    /// leader's own LAN addresses, on which relayed imports are published.
    public mutating func setRelay(mode: RelayMode, localPrefixes: [IPPrefix], leaderAddresses: [IPAddress]) -> [ImportEffect] {
        guard mode != relays.mode || localPrefixes != relays.localPrefixes || leaderAddresses != relays.leaderAddresses else { return [] }
        relays.mode = mode
        relays.localPrefixes = localPrefixes
        relays.leaderAddresses = leaderAddresses
        return reconcileAll()
    }

    /// The daemon's connect probe of an import's addresses answered.
    public mutating func probed(_ key: ImportKey, reachable: Bool) -> [ImportEffect] {
        relays.probed(key, reachable: reachable)
        return reconcile(key)
    }

    /// The daemon opened the import's relay listener on `port` (nil: it could not, and why).
    public mutating func relayOpened(_ key: ImportKey, port: UInt16?, failure: String? = nil) -> [ImportEffect] {
        if let port { relays.opened(key, port: port) } else { relays.failed(key, reason: failure ?? "no listener") }
        return reconcile(key)
    }

    /// The verdict for a remote instance, as its record describes it.
    func verdict(_ record: ServiceRecord) -> Verdict {
        if decidesCrossings { return gate.crossingVerdict(record.policyService, from: record.policyIsland, to: gate.island) }
        return gate.importVerdict(record.policyService, from: record.policyIsland)
    }

    /// Islands whose services reach this link another way (a router's other links, which
    /// exchange records in process): their values are kept but never published here, so an
    /// island that stops being a sibling (its link's gateway no longer leads it) comes in at once.
    public private(set) var siblingIslands: Set<IslandID> = []

    public mutating func setSiblingIslands(_ islands: Set<IslandID>) -> [ImportEffect] {
        let changed = islands.symmetricDifference(siblingIslands)
        siblingIslands = islands
        return reconcile(islands: changed)
    }

    /// Decides each import as a whole crossing — the export rules of the island it comes
    /// from and the import rules of this one (`Policy.crossing`) — rather than the import
    /// rules alone: a router's link, whose sources export without a gate of their own.
    public var decidesCrossings = false

    /// Whether any service of `type` from `island` (named `name`) may come in: the types worth following.
    func mayImport(_ type: ServiceType, from island: IslandID, name: String) -> Bool {
        gate.mayImport(type, from: PolicyIsland(id: island.rawValue, name: name.isEmpty ? nil : name))
    }

    /// The end of the earliest handover still running (kept as leaders change: the gateway
    /// asks after every event).
    public private(set) var nextDeadline: Instant?

    /// The current leader of each remote island, from the directory. A new leader starts a
    /// handover of `handoverGrace`; an island no longer named goes back to "newest value".
    public mutating func setLeaders(_ current: [IslandID: NodeID], now: Instant) -> [ImportEffect] {
        // Collected first: changing `leaders` while iterating it would copy it.
        var changed = Set(leaders.compactMap { island, leadership in current[island] != leadership.leader ? island : nil })
        for island in changed { leaders[island] = nil }
        for (island, leader) in current where leaders[island] == nil {
            let published = Set((slotsByOwner[leader] ?? []).compactMap { slotIndex[$0] }.filter { $0.island == island })
            leaders[island] = Leadership(leader: leader, handoverUntil: now + Self.handoverGrace, published: published)
            changed.insert(island)
        }
        updateNextDeadline()
        return reconcile(islands: changed)
    }

    /// Ends the handovers whose grace is over: older owners' values stop counting.
    public mutating func tick(now: Instant) -> [ImportEffect] {
        guard let next = nextDeadline, now >= next else { return [] }
        let ended = Set(leaders.compactMap { island, leadership in
            leadership.handoverUntil.map { now >= $0 } == true ? island : nil
        })
        for island in ended { leaders[island]?.handoverUntil = nil }
        updateNextDeadline()
        return reconcile(islands: ended)
    }

    /// A change under a subscribed type key. Payloads that are not valid service records
    /// are dropped by the caller before they get here.
    public mutating func apply(_ record: ServiceRecord, from slot: ValueSlot) -> [ImportEffect] {
        let key = record.id
        var effects: [ImportEffect] = []
        if leaders[key.island]?.leader == slot.owner { leaders[key.island]?.published.insert(key) }
        if let previous = slotIndex[slot], previous != key {
            // The slot now describes another instance (renamed at the source).
            remote[previous]?[slot] = nil
            if remote[previous]?.isEmpty == true { remote[previous] = nil }
            effects += reconcile(previous)
        }
        serial += 1
        slotIndex[slot] = key
        slotsByOwner[slot.owner, default: []].insert(slot)
        remote[key, default: [:]][slot] = (record, serial)
        keysByIsland[key.island, default: []].insert(key)
        return effects + reconcile(key)
    }

    public mutating func remove(_ slot: ValueSlot) -> [ImportEffect] {
        guard let key = slotIndex.removeValue(forKey: slot) else { return [] }
        unindex(slot)
        remote[key]?[slot] = nil
        if remote[key]?.isEmpty == true { remote[key] = nil }
        return reconcile(key)
    }

    /// The gateway no longer follows `type` (no other island exports it any more, or the
    /// policy keeps it out): its values are forgotten and its imports withdrawn. Changes to
    /// an unfollowed type never arrive, so keeping its values would keep a service that was
    /// withdrawn after the island's directory entry dropped the type (a lost or late removal)
    /// for good, and bring it back when the type is followed again.
    public mutating func forget(type: ServiceType) -> [ImportEffect] {
        let keys = Set(remote.keys.filter { $0.type == type }).union(imports.keys.filter { $0.type == type })
        for (slot, key) in slotIndex where key.type == type {
            slotIndex[slot] = nil
            unindex(slot)
        }
        for key in keys { remote[key] = nil }
        for (island, leadership) in leaders { leaders[island]?.published = leadership.published.filter { $0.type != type } }
        return keys.sorted().flatMap { reconcile($0) }
    }

    /// Local services decide which names are taken.
    public mutating func observe(_ event: LocalDomainEvent) -> [ImportEffect] {
        switch event {
        case .added(let service), .changed(let service):
            guard service.isPublishedByAHost else { return forgetLocal(service.id) }
            guard localServices[service.id] == nil else { return [] }
            let canonical = service.instance.name.canonical
            localServices[service.id] = canonical
            localNames[service.id.type, default: [:]][canonical, default: 0] += 1
            // An import holding this name yields to the local service.
            guard importNames[service.id.type]?[canonical] != nil else { return [] }
            let clashing = imports.filter { $0.key.type == service.id.type && $0.value.publication.name.canonical == canonical }
            return clashing.sorted { $0.key < $1.key }.flatMap { key, imported -> [ImportEffect] in
                removeImport(key)
                return [.withdraw(key, imported)] + reconcile(key)
            }
        case .removed(let id):
            return forgetLocal(id)
        case .connection, .ignored, .settled, .publication:
            return []
        }
    }

    /// A publication of ours ended up under another name (an mDNS collision after all).
    public mutating func renamed(_ key: ImportKey, to name: InstanceName) {
        guard var imported = imports[key] else { return }
        imported.publication.name = name
        setImport(key, imported)
    }

    // MARK: deciding

    private mutating func forgetLocal(_ id: ServiceID) -> [ImportEffect] {
        guard let canonical = localServices.removeValue(forKey: id) else { return [] }
        localNames[id.type]?[canonical, default: 1] -= 1
        if localNames[id.type]?[canonical] == 0 { localNames[id.type]?[canonical] = nil }
        return []
    }

    /// What to do with a remote instance.
    private enum Choice {
        /// Publish (or keep publishing) this record, which `owner` put.
        case take(ServiceRecord, owner: NodeID)
        case hold(ImportHold)
        /// Nothing to publish and nothing worth saying: not leading, this island's own, gone.
        case none
    }

    /// The value that counts for an instance (see the type's notes), if it may come in.
    private func choose(_ key: ImportKey) -> Choice {
        guard isActive, key.island != localIsland, !siblingIslands.contains(key.island), let values = remote[key] else {
            return .none
        }
        let counted: [ValueSlot: (record: ServiceRecord, serial: UInt64)]
        if let leadership = leaders[key.island] {
            let own = values.filter { $0.key.owner == leadership.leader }
            if !own.isEmpty {
                counted = own
            } else if leadership.handoverUntil != nil, !leadership.published.contains(key) {
                counted = values
            } else {
                return .hold(.notFromCurrentLeader)
            }
        } else {
            counted = values
        }
        guard let (slot, newest) = counted.max(by: { $0.value.serial < $1.value.serial }).map({ ($0.key, $0.value.record) }) else {
            return .none
        }
        let verdict = verdict(newest)
        return verdict.permits ? .take(newest, owner: slot.owner) : .hold(.denied(verdict))
    }

    private mutating func reconcileAll() -> [ImportEffect] {
        Set(remote.keys).union(imports.keys).sorted().flatMap { reconcile($0) }
    }

    private mutating func reconcile(islands: Set<IslandID>) -> [ImportEffect] {
        guard !islands.isEmpty else { return [] }
        return islands.reduce(into: Set<ImportKey>()) { $0.formUnion(keysByIsland[$1] ?? []) }.sorted().flatMap { reconcile($0) }
    }

    private mutating func reconcile(_ key: ImportKey) -> [ImportEffect] {
        defer { if remote[key] == nil, imports[key] == nil { keysByIsland[key.island]?.remove(key) } }
        let record: ServiceRecord
        let owner: NodeID
        switch choose(key) {
        case .take(let taken, let by):
            (record, owner) = (taken, by)
        case .hold(let hold):
            return holdBack(key, hold)
        case .none:
            held[key] = nil
            let relay = relays.forget(key).map(ImportEffect.relay)
            return (removeImport(key).map { [.withdraw(key, $0)] } ?? []) + relay
        }
        let (resolution, relayEffects) = relays.resolve(key, record, owner: owner)
        let asked = relayEffects.map(ImportEffect.relay)
        let addresses: [IPAddress], port: UInt16, relayed: RelayReason?
        switch resolution {
        case .publish(let where_, let at, let why):
            (addresses, port, relayed) = (where_, at, why)
        case .wait:
            return asked // what is published (if anything) stays until the path is known
        case .unusable(let why):
            return asked + holdBack(key, .unreachable(why))
        }
        held[key] = nil
        if var current = imports[key] {
            let publication = makePublication(record, name: current.publication.name, addresses: addresses, port: port,
                                              relayed: relayed != nil)
            let leader = relayed == nil ? nil : owner
            guard publication != current.publication || relayed != current.relayed || leader != current.relayLeader else { return asked }
            current.record = record
            current.publication = publication
            current.relayed = relayed
            current.relayLeader = leader
            setImport(key, current)
            return asked + [.update(key, current)]
        }
        let name = freeName(for: record, excluding: key)
        let imported = Imported(record: record, publication: makePublication(record, name: name, addresses: addresses, port: port,
                                                                             relayed: relayed != nil),
                                relayed: relayed, relayLeader: relayed == nil ? nil : owner)
        setImport(key, imported)
        return asked + [.publish(key, imported)]
    }

    /// Holds an instance back: withdraws its publication and its relay, says why once.
    private mutating func holdBack(_ key: ImportKey, _ hold: ImportHold) -> [ImportEffect] {
        let withdrawal = removeImport(key).map { [ImportEffect.withdraw(key, $0)] } ?? []
        let relay: [ImportEffect] = if case .unreachable = hold { [] } else { relays.forget(key).map(ImportEffect.relay) }
        guard held.updateValue(hold, forKey: key) != hold else { return withdrawal + relay }
        return withdrawal + relay + [.held(key, hold)]
    }

    /// The remote name if nobody on the link uses it, else the island-suffixed alternatives.
    private func freeName(for record: ServiceRecord, excluding key: ImportKey) -> InstanceName {
        let own = imports[key]?.publication.name.canonical
        func taken(_ canonical: String) -> Bool {
            if localNames[record.type]?[canonical] != nil { return true }
            let holders = importNames[record.type]?[canonical] ?? 0
            return holders - (canonical == own ? 1 : 0) > 0
        }
        var candidate = record.name
        var attempt = 0
        let rule = RenameRule.suffix(record.islandName.isEmpty ? String(record.island.description.prefix(8)) : record.islandName)
        while taken(candidate.canonical), attempt < 1000 {
            attempt += 1
            candidate = rule.alternative(to: record.name, attempt: attempt)
        }
        return candidate
    }

    // MARK: indexes

    /// Every change of `imports` goes through here and `removeImport`, which keep `importNames`.
    private mutating func setImport(_ key: ImportKey, _ imported: Imported) {
        if let previous = imports[key] { unname(previous.publication) }
        imports[key] = imported
        importNames[key.type, default: [:]][imported.publication.name.canonical, default: 0] += 1
    }

    @discardableResult
    private mutating func removeImport(_ key: ImportKey) -> Imported? {
        guard let previous = imports.removeValue(forKey: key) else { return nil }
        unname(previous.publication)
        return previous
    }

    private mutating func unname(_ publication: Publication) {
        let canonical = publication.name.canonical
        importNames[publication.type]?[canonical, default: 1] -= 1
        if importNames[publication.type]?[canonical] == 0 { importNames[publication.type]?[canonical] = nil }
    }

    private mutating func unindex(_ slot: ValueSlot) {
        slotsByOwner[slot.owner]?.remove(slot)
        if slotsByOwner[slot.owner]?.isEmpty == true { slotsByOwner[slot.owner] = nil }
    }

    private mutating func updateNextDeadline() {
        nextDeadline = leaders.values.compactMap(\.handoverUntil).min()
    }

    /// The import as published: the record's name (or a free one), type and TXT, on a
    /// synthesized host with `addresses` (the service's own, or this leader's for a relay)
    /// at `port` (the service's, or the relay listener's).
    /// `relayed`: on this leader's addresses, under a host name of its own (`SynthesizedHost`).
    private func makePublication(_ record: ServiceRecord, name: InstanceName, addresses: [IPAddress], port: UInt16,
                                 relayed: Bool) -> Publication {
        let suffix = record.islandName.isEmpty ? String(record.island.description.prefix(8)) : record.islandName
        let host = SynthesizedHost.name(label: record.hostLabel, island: record.island, relayed: relayed)
        // A SIP UA's TXT contact must name an address this island reaches, not a `.local` name.
        let txt = SIPAnnouncement.isSIPServiceType(record.type)
            ? SIPAnnouncement.importedTXT(of: SIPBinding.instance(of: record), publishedAt: addresses, port: port) : record.txt
        return Publication(
            name: name, type: record.type, subtypes: record.subtypes, port: port, txt: txt,
            host: .synthesized(host, addresses: addresses),
            renameRule: .suffix(suffix), announcement: .immediate)
    }
}
