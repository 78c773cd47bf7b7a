import DNSSD
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous

/// A router's links exchanging services in process (router mode, issue 16): each link is an
/// island of its own, and what a host publishes on one link is published on the others as
/// the policy permits. Pure: the daemon feeds it each link's local-domain events and carries
/// out its publications on that link's interface-scoped domain.
///
/// Each link has the two halves an island's leader has — an `ExportPlanner` over what its
/// hosts publish and an `ImportPlanner` over what the other links export — with the DHT
/// between them replaced by a direct hand-over, so the rules between islands hold between
/// links unchanged:
/// - no rename: an import picks a free name before it is announced (without probing), and
///   yields to a host's service that takes its name later; a host never renames;
/// - no loop: what any gateway published (our own publications, synthesized host names) and
///   what this box itself publishes on every link (Avahi's LOCAL flag: its own host's
///   services, already everywhere) is never exported;
/// - records, not packets: nothing is forwarded, every crossing is a publication;
/// - policy: a crossing from link A to link B is decided as a whole (`Policy.crossing`), so
///   rules naming `from` and `to` (and one-way rules) decide per pair of links;
/// - nothing is published on a link before its browse has settled (`.settled`: every name
///   the responder had cached is known): an import announced without probing under a name
///   a host already holds there would make that host rename its service.
///
/// Known limit (as between islands): a host that comes up later with the name an import
/// holds on its link loses its probe and renames; the import yields only to services it knows.
public struct LinkExchange: Sendable {
    /// One link: its position (the daemon's index into its domains), island and name.
    public struct Link: Hashable, Sendable {
        public var index: Int
        public var name: String
        public var interface: String
        public var island: IslandID

        /// - Parameter box: the router's own node id. A link's island is its box's: two routers
        ///   that both call a link "staff" have two islands, not one (if both are on the same
        ///   physical link, its election makes them one, as for any island's gateways).
        public init(index: Int, name: String, interface: String, box: NodeID? = nil) {
            self.index = index
            self.name = name
            self.interface = interface
            island = Self.island(named: name, box: box)
        }

        /// A link's island id: FNV-1a over its box's node id and its name, stable across
        /// restarts (the node id is the state directory's). Without a box, over the name alone.
        public static func island(named name: String, box: NodeID? = nil) -> IslandID {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in (box?.bytes ?? []) + Array(("link:" + name.lowercased()).utf8) {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            return IslandID(rawValue: hash)
        }

        /// The owner the other links' importers see this link's records from.
        var owner: NodeID { NodeID(w0: UInt64(index) + 1, w1: island.rawValue, w2: 0, w3: 0) }
    }

    public enum Effect: Hashable, Sendable {
        /// Publish on link `link` (an interface-scoped publication).
        case publish(link: Int, ImportKey, Publication)
        case update(link: Int, ImportKey, Publication)
        case withdraw(link: Int, ImportKey)
        /// What was decided, said once per change (for events and logs).
        case fact(link: Int, GatewayFact)
    }

    public let links: [Link]
    private var exports: [ExportPlanner]
    private var imports: [ImportPlanner]
    /// The value id each exported service holds in its link's slot space.
    private var valueIDs: [[ServiceID: UInt64]]
    private var nextValueID: UInt64 = 1
    private(set) var policy: Policy
    /// Whether each link's browse has settled (`.settled`).
    private var settled: [Bool]
    /// Whether each link is the exchange's: its island is led by this box (`setLed`).
    private var led: [Bool]

    /// - Parameter box: the router's node id, which its links' islands are derived from (`Link`).
    /// - Parameter led: whether the links start as the exchange's (see `setLed`); a router
    ///   whose links' gateways have yet to win their elections starts with none.
    /// - Parameter settleTime: see `ExportPlanner`; services wait this long before they cross.
    public init(links: [(name: String, interface: String)], box: NodeID? = nil, policy: Policy = .permitAll,
                led: Bool = true, settleTime: Interval = .milliseconds(40)) {
        self.links = links.enumerated().map {
            Link(index: $0.offset, name: $0.element.name, interface: $0.element.interface, box: box)
        }
        self.policy = policy
        settled = Array(repeating: false, count: links.count)
        self.led = Array(repeating: led, count: links.count)
        valueIDs = Array(repeating: [:], count: links.count)
        // Sources export everything they may (no gate); each destination decides the crossing.
        exports = self.links.map { link in
            var planner = ExportPlanner(gate: PolicyGate(policy: .permitAll), settleTime: settleTime)
            if led { _ = planner.activate(island: link.island, name: link.name) } else { _ = planner.identify(island: link.island, name: link.name) }
            return planner
        }
        // Activated when the link's browse settles (`observe`).
        imports = self.links.map { link in
            var planner = ImportPlanner(gate: PolicyGate(policy: policy))
            planner.decidesCrossings = true
            _ = planner.identify(island: link.island, name: link.name)
            return planner
        }
    }

    /// The earliest instant a settling service is due to cross.
    public var nextDeadline: Instant? { exports.compactMap(\.nextDeadline).min() }

    /// Something happened on link `link`.
    public mutating func observe(_ event: LocalDomainEvent, on link: Int, now: Instant) -> [Effect] {
        guard links.indices.contains(link) else { return [] }
        var effects: [Effect] = []
        // Names on the link (hosts' and this box's own) are taken for imports onto it.
        effects += importEffects(imports[link].observe(event), on: link)
        if case .settled = event, !settled[link] {
            settled[link] = true
            if led[link] { effects += importEffects(imports[link].activate(localIsland: links[link].island), on: link) }
        }
        effects += exportEffects(exports[link].observe(exportable(event), now: now), from: link)
        return effects
    }

    /// Services whose settle time is over cross now.
    public mutating func tick(now: Instant) -> [Effect] {
        links.indices.flatMap { exportEffects(exports[$0].tick(now: now), from: $0) }
    }

    /// Whether link `link` is the exchange's. A router's link is an island whose leader
    /// decides what is published there; while another gateway leads it (an ordinary z2zd of
    /// higher priority, or a second router on the same link) that leader imports the other
    /// islands — this box's other links included, through the DHT, where their gateways
    /// export them — so the exchange leaves the link: its services stop crossing to the
    /// other links in process and the other links' services are withdrawn from it, or each
    /// would be there twice. They come back when the box's gateway leads the link again.
    public mutating func setLed(_ link: Int, _ isLed: Bool, now: Instant) -> [Effect] {
        guard links.indices.contains(link), led[link] != isLed else { return [] }
        led[link] = isLed
        guard isLed else {
            return exportEffects(exports[link].deactivate(), from: link) + importEffects(imports[link].deactivate(), on: link)
        }
        var effects = exportEffects(exports[link].activate(island: links[link].island, name: links[link].name), from: link)
        if settled[link] { effects += importEffects(imports[link].activate(localIsland: links[link].island), on: link) }
        return effects
    }

    /// Whether link `link` is the exchange's (`setLed`).
    public func isLed(_ link: Int) -> Bool { links.indices.contains(link) && led[link] }

    /// The islands each link's gateway leaves to the exchange (its `siblingIslands`): the
    /// islands of the box's other links that the box leads — as their gateways' elections
    /// name them (`leading[i]`: link i's island while its gateway leads it, else nil; a
    /// gateway that followed another before keeps that island's id when it takes over). A
    /// link another gateway leads is no sibling: its services come through the DHT.
    public static func siblingIslands(leading: [IslandID?]) -> [Set<IslandID>] {
        leading.indices.map { link in
            Set(leading.indices.filter { $0 != link }.compactMap { leading[$0] })
        }
    }

    /// A publication of ours on `link` ended up under another name (an mDNS collision after all).
    public mutating func renamed(_ key: ImportKey, to name: InstanceName, on link: Int) {
        guard links.indices.contains(link) else { return }
        imports[link].renamed(key, to: name)
    }

    /// A new policy (a reload): every crossing is decided again.
    public mutating func setPolicy(_ policy: Policy) -> [Effect] {
        self.policy = policy
        return links.indices.flatMap { importEffects(imports[$0].setPolicy(policy), on: $0) }
    }

    /// Everything published, by link, for the goodbyes at shutdown.
    public var published: [(link: Int, key: ImportKey)] {
        links.indices.flatMap { index in imports[index].imports.keys.sorted().map { (index, $0) } }
    }

    // MARK: reading

    /// What link `link`'s hosts publish (this box's own services and gateways' left out).
    public func services(on link: Int) -> [DiscoveredService] {
        guard links.indices.contains(link) else { return [] }
        return exports[link].services.values.filter(\.isPublishedByAHost).sorted { $0.id < $1.id }
    }

    /// What is published on link `link` for the other links, by the record it came as.
    public func imported(on link: Int) -> [ImportPlanner.Imported] {
        guard links.indices.contains(link) else { return [] }
        return imports[link].imports.keys.sorted().compactMap { imports[link].imports[$0] }
    }

    /// Whether link `link`'s browse has settled, so that services of other links are published there.
    public func isReady(_ link: Int) -> Bool { links.indices.contains(link) && imports[link].isActive }

    /// Services of other links kept off link `link`, and why.
    public func held(on link: Int) -> [(ImportKey, ImportHold)] {
        guard links.indices.contains(link) else { return [] }
        return imports[link].held.sorted { $0.key < $1.key }
    }

    /// The verdict of the one gate that decides whether `record` crosses onto link `link`.
    public func verdict(_ record: ServiceRecord, onto link: Int) -> Verdict? {
        guard links.indices.contains(link) else { return nil }
        return imports[link].verdict(record)
    }

    /// The link an island id names, if it is one of ours.
    public func link(of island: IslandID) -> Link? { links.first { $0.island == island } }

    // MARK: plumbing

    /// The box's own services (Avahi's LOCAL flag) are on every link already: never exported.
    private func exportable(_ event: LocalDomainEvent) -> LocalDomainEvent {
        switch event {
        case .added(let service), .changed(let service):
            return service.origin.contains(.local) ? .removed(service.id) : event
        default:
            return event
        }
    }

    private mutating func exportEffects(_ effects: [ExportEffect], from source: Int) -> [Effect] {
        var out: [Effect] = []
        for effect in effects {
            switch effect {
            case .put(let record, _):
                let id = ServiceID(name: record.name, type: record.type)
                let valueID = valueIDs[source][id] ?? {
                    defer { nextValueID += 1 }
                    return nextValueID
                }()
                valueIDs[source][id] = valueID
                let slot = ValueSlot(owner: links[source].owner, valueID: valueID)
                for destination in links.indices where destination != source {
                    out += importEffects(imports[destination].apply(record, from: slot), on: destination)
                }
            case .remove(let id):
                guard let valueID = valueIDs[source].removeValue(forKey: id) else { continue }
                let slot = ValueSlot(owner: links[source].owner, valueID: valueID)
                for destination in links.indices where destination != source {
                    out += importEffects(imports[destination].remove(slot), on: destination)
                }
            case .skipped:
                break
            }
        }
        return out
    }

    private func importEffects(_ effects: [ImportEffect], on link: Int) -> [Effect] {
        effects.flatMap { effect -> [Effect] in
            switch effect {
            case .publish(let key, let imported):
                [.publish(link: link, key, imported.publication), .fact(link: link, .imported(key, imported, new: true))]
            case .update(let key, let imported):
                [.update(link: link, key, imported.publication), .fact(link: link, .imported(key, imported, new: false))]
            case .withdraw(let key, let imported):
                [.withdraw(link: link, key), .fact(link: link, .importWithdrawn(key, imported))]
            case .held(let key, let hold):
                [.fact(link: link, .importHeld(key, hold))]
            case .relay:
                [] // links reach each other through the box: no relay between them
            }
        }
    }
}
