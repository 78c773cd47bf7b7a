import DNSSD
import Island
import Primitives
import LocalDomain
import Policy
import SIP

/// Why a service on the link is not exported. `reason` is the metric label and log key.
public enum ExportSkip: Hashable, Sendable {
    /// This gateway published it (Avahi's OUR_OWN flag).
    case ourOwn
    /// A z2z gateway published it (its host name carries the marker): exporting it would loop.
    case gatewayPublished
    /// A gateway's own `_z2z._udp` advert.
    case gatewayAdvert
    /// Only link-local (or no) addresses, and no relay offered: no other island could reach it.
    case noRoutableAddress
    /// The policy said no; its verdict names the rule that decided.
    case denied(Verdict)
    /// A SIP user agent none of whose contacts answers OPTIONS any more (unplugged without a
    /// goodbye): withdrawn by its home leader until it answers again (`LocalUAChecks`).
    case notAnswering
    /// Its type already has as many exports as the DHT holds from one island under one key
    /// (`ExportPlanner.valuesPerType`): a put would be refused by every node. Exported as
    /// soon as another export of the type goes.
    case typeFull(limit: Int)

    public var reason: String {
        switch self {
        case .ourOwn: "our_own"
        case .gatewayPublished: "gateway_published"
        case .gatewayAdvert: "gateway_advert"
        case .noRoutableAddress: "no_routable_address"
        case .denied: "denied_by_policy"
        case .notAnswering: "not_answering"
        case .typeFull: "type_full"
        }
    }
}

/// What the export side asks the gateway to do.
public enum ExportEffect: Hashable, Sendable {
    /// Put this record under its type: a first export (`new`) or a changed one.
    case put(ServiceRecord, new: Bool)
    /// Delete the exported instance (tombstone), well before its expiry.
    case remove(ServiceID)
    /// The service stays local; says why (for `z2z explain`, counters and debug logs).
    case skipped(ServiceID, ExportSkip)
}

/// Where one service on the link stands with the export side: the answer `z2z explain`
/// and `z2z services` give, from the same code that decides.
public enum ExportDecision: Hashable, Sendable {
    /// Exported now, as this record; permitted by `verdict`.
    case exported(ServiceRecord, verdict: Verdict)
    /// Exportable, and waits for its settle time (until the instant given).
    case settling(until: Instant, verdict: Verdict)
    /// Exportable, but not exported by this gateway: it does not lead its island (its
    /// leader exports it).
    case exportable(verdict: Verdict)
    /// Stays local, and why.
    case skipped(ExportSkip)
}

/// Decides what a leader exports, from the services its link shows. Pure: the gateway
/// feeds it local-domain events and carries out its effects on the rendezvous.
///
/// Exported: every service on the link that the policy permits, that no gateway published
/// (by flag or by host-name marker, so loops are impossible also after a failover or
/// through a reflector), with its routable addresses only. Changes of TXT, port or address
/// re-put the record; a removal deletes it at once. A SIP user agent the gateway's contact
/// checks found dead is withdrawn the same way, and exported again once it answers
/// (`setNotAnswering`; the checks themselves are the SIP service's, see `LocalUAChecks`).
public struct ExportPlanner: Sendable {
    private(set) var island: IslandID?
    private(set) var islandName = ""
    private(set) var isActive = false
    /// The link as last seen, exportable or not.
    private(set) var services: [ServiceID: DiscoveredService] = [:]
    /// What is exported now, by instance.
    private(set) var exported: [ServiceID: ServiceRecord] = [:]
    /// Services seen for the first time, exported once their settle time is over.
    private(set) var settling: [ServiceID: Instant] = [:]
    /// The policy, with this island as the subject of its export verdicts.
    private(set) var gate: PolicyGate
    /// What this leader offers for relaying its exports (issue 14); nil: no relay. With an
    /// offer every record carries it, and a link-local-only service is exported too.
    private(set) var relayOffer: RelayOffer?
    /// SIP user agents on the link whose contacts all stopped answering OPTIONS: not exported.
    private(set) var notAnswering: Set<ServiceID> = []
    /// Exportable services not exported because their type is full (`valuesPerType`).
    private(set) var capped: Set<ServiceID> = []
    let settleTime: Interval
    /// Exports per type at most: the DHT's values per owner per key (Kademlia's
    /// `Limits.maxValuesPerOwnerPerKey`, 128). Every node refuses more (`too_many_values_from_owner`),
    /// so exporting more would only pretend.
    public let valuesPerType: Int

    /// - Parameter settleTime: how long a newly seen service waits before its first export.
    ///   Avahi reports a service at its first resolution and its other address family a few
    ///   milliseconds later; exporting at once would put the record twice, and the importing
    ///   island would re-register its publication for the second address, which Avahi holds
    ///   back for a second (its register rate limit). Changes of a service already exported
    ///   and removals are carried out at once.
    /// - Parameter valuesPerType: see `valuesPerType`.
    public init(gate: PolicyGate = PolicyGate(), settleTime: Interval = .milliseconds(40), valuesPerType: Int = 128) {
        self.gate = gate
        self.settleTime = settleTime
        self.valuesPerType = max(1, valuesPerType)
    }

    /// When the next settling service is due.
    public var nextDeadline: Instant? { settling.values.min() }

    /// Exports the services whose settle time is over.
    public mutating func tick(now: Instant) -> [ExportEffect] {
        let due = settling.filter { $0.value <= now }.keys.sorted()
        for id in due { settling[id] = nil }
        return due.flatMap { reconcile($0) }
    }

    /// This island as it is known now (the election's island id, the name other islands
    /// see): the subject of export verdicts, leader or not.
    public mutating func identify(island: IslandID?, name: String) -> [ExportEffect] {
        guard island != self.island || name != islandName else { return [] }
        self.island = island
        islandName = name
        gate.island = PolicyIsland(id: island?.rawValue, name: name.isEmpty ? nil : name)
        return isActive ? reconcileAll() : []
    }

    /// Starts exporting as the leader of `island`; returns a put for everything exportable.
    public mutating func activate(island: IslandID, name: String) -> [ExportEffect] {
        _ = identify(island: island, name: name)
        isActive = true
        return reconcileAll()
    }

    /// Stops exporting (no longer the leader): deletes everything exported.
    public mutating func deactivate() -> [ExportEffect] {
        isActive = false
        settling = [:]
        capped = []
        let removals = exported.keys.sorted().map(ExportEffect.remove)
        exported = [:]
        return removals
    }

    /// A new relay offer (or none): exports are re-decided.
    public mutating func setRelayOffer(_ offer: RelayOffer?) -> [ExportEffect] {
        guard offer != relayOffer else { return [] }
        relayOffer = offer
        return reconcileAll()
    }

    /// The link's SIP user agents whose contacts all stopped answering OPTIONS, as the contact
    /// checks last found them (the whole set each time): those are withdrawn, and those no
    /// longer in it exported again.
    public mutating func setNotAnswering(_ services: Set<ServiceID>) -> [ExportEffect] {
        guard services != notAnswering else { return [] }
        let changed = services.symmetricDifference(notAnswering)
        notAnswering = services
        return changed.sorted().flatMap { reconcile($0) }
    }

    /// A new policy: exports are re-decided.
    public mutating func setPolicy(_ policy: Policy) -> [ExportEffect] {
        gate.policy = policy
        return reconcileAll()
    }

    public mutating func observe(_ event: LocalDomainEvent, now: Instant) -> [ExportEffect] {
        switch event {
        case .added(let service), .changed(let service):
            services[service.id] = service
            if exported[service.id] == nil, isActive, settleTime.nanoseconds > 0 {
                if settling[service.id] == nil { settling[service.id] = now + settleTime }
                return []
            }
            return reconcile(service.id)
        case .removed(let id):
            services[id] = nil
            settling[id] = nil
            return reconcile(id)
        case .connection, .ignored, .settled, .publication:
            return []
        }
    }

    /// Where a service on the link stands: exported, settling, exportable by the leader, or
    /// skipped and why.
    func decision(for service: DiscoveredService) -> ExportDecision {
        switch decide(service) {
        case .failure(let skip): return .skipped(skip.skip)
        case .success(let (_, verdict)):
            if let exported = exported[service.id] { return .exported(exported, verdict: verdict) }
            if capped.contains(service.id) { return .skipped(.typeFull(limit: valuesPerType)) }
            if let until = settling[service.id] { return .settling(until: until, verdict: verdict) }
            return .exportable(verdict: verdict)
        }
    }

    /// The record this service would be exported as and the verdict that permits it, or why not.
    func decide(_ service: DiscoveredService) -> Result<(ServiceRecord, Verdict), ExportSkipError> {
        let instance = service.instance
        // A phone registered with this gateway's registrar is announced by the gateway itself,
        // and exported like any UA on the link (its contact is the phone's, never a gateway's).
        if service.origin.contains(.ourOwn), !SIPAnnouncement.isRegistrarBinding(instance) { return .failure(.init(.ourOwn)) }
        if instance.type == GatewayAdvert.serviceType { return .failure(.init(.gatewayAdvert)) }
        if SynthesizedHost.isSynthesized(instance.host) { return .failure(.init(.gatewayPublished)) }
        let verdict = gate.exportVerdict(PolicyService(instance))
        guard verdict.permits else { return .failure(.init(.denied(verdict))) }
        let routable = instance.routableAddresses
        guard !routable.isEmpty || relayOffer != nil else { return .failure(.init(.noRoutableAddress)) }
        if notAnswering.contains(service.id) { return .failure(.init(.notAnswering)) }
        let label = instance.host.labels.first.map(String.init) ?? "host"
        let record = ServiceRecord(
            island: island ?? IslandID(rawValue: 0), islandName: islandName, name: instance.name, type: instance.type,
            subtypes: instance.subtypes, port: instance.port, txt: instance.txt,
            addresses: Array(routable.prefix(ServiceRecord.maximumAddresses)), hostLabel: label, relay: relayOffer)
        return .success((record, verdict))
    }

    private mutating func reconcileAll() -> [ExportEffect] {
        Set(services.keys).union(exported.keys).sorted().flatMap { reconcile($0) }
    }

    private mutating func reconcile(_ id: ServiceID) -> [ExportEffect] {
        guard isActive else { return [] }
        switch services[id].map(decide) {
        case .success(let (record, _))?:
            if exported[id] == nil, exported.keys.count(where: { $0.type == id.type }) >= valuesPerType {
                // Said once, when it starts waiting for room.
                return capped.insert(id).inserted ? [.skipped(id, .typeFull(limit: valuesPerType))] : []
            }
            capped.remove(id)
            let previous = exported.updateValue(record, forKey: id)
            guard previous != record else { return [] }
            return [.put(record, new: previous == nil)]
        case .failure(let skip)?:
            capped.remove(id)
            guard exported.removeValue(forKey: id) != nil else { return [.skipped(id, skip.skip)] }
            return [.remove(id), .skipped(id, skip.skip)] + promoteCapped(of: id.type)
        case nil:
            capped.remove(id)
            guard exported.removeValue(forKey: id) != nil else { return [] }
            return [.remove(id)] + promoteCapped(of: id.type)
        }
    }

    /// An export of `type` went: the first service waiting for room (by id) takes its place.
    private mutating func promoteCapped(of type: ServiceType) -> [ExportEffect] {
        guard let next = capped.filter({ $0.type == type }).min() else { return [] }
        capped.remove(next)
        return reconcile(next)
    }
}

/// `ExportSkip` as an error, so `decide` can return a `Result`.
public struct ExportSkipError: Error, Hashable, Sendable {
    public var skip: ExportSkip
    public init(_ skip: ExportSkip) { self.skip = skip }
}
