import DNSSD
import Island
import LocalDomain
import Primitives

/// Why a service on the link is not exported. `reason` is the metric label and log key.
public enum ExportSkip: Hashable, Sendable {
    /// This gateway published it (Avahi's OUR_OWN flag).
    case ourOwn
    /// A z2z gateway published it (its host name carries the marker): exporting it would loop.
    case gatewayPublished
    /// A gateway's own `_z2z._udp` advert.
    case gatewayAdvert
    /// Only link-local (or no) addresses: no other island could reach it.
    case noRoutableAddress
    /// The policy said no; the rule that decided.
    case denied(rule: String)

    public var reason: String {
        switch self {
        case .ourOwn: "our_own"
        case .gatewayPublished: "gateway_published"
        case .gatewayAdvert: "gateway_advert"
        case .noRoutableAddress: "no_routable_address"
        case .denied: "denied_by_policy"
        }
    }
}

/// What the export side asks the gateway to do.
public enum ExportEffect: Hashable, Sendable {
    /// Put (or replace) this record under its type.
    case put(ServiceRecord)
    /// Delete the exported instance (tombstone), well before its expiry.
    case remove(ServiceType, InstanceName)
    /// The service stays local; says why (for `z2z explain`, counters and debug logs).
    case skipped(ServiceID, ExportSkip)
}

/// Decides what a leader exports, from the services its link shows. Pure: the gateway
/// feeds it local-domain events and carries out its effects on the rendezvous.
///
/// Exported: every service on the link that the policy permits, that no gateway published
/// (by flag or by host-name marker, so loops are impossible also after a failover or
/// through a reflector), with its routable addresses only. Changes of TXT, port or address
/// re-put the record; a removal deletes it at once.
public struct ExportPlanner: Sendable {
    /// Policy for the export direction: the verdict for a type, and the rule that decided.
    public typealias Permission = @Sendable (ServiceType) -> (permitted: Bool, rule: String)

    public private(set) var island: IslandID?
    public private(set) var islandName = ""
    public private(set) var isActive = false
    /// The link as last seen, exportable or not.
    public private(set) var services: [ServiceID: DiscoveredService] = [:]
    /// What is exported now, by instance.
    public private(set) var exported: [ServiceID: ServiceRecord] = [:]
    /// Services seen for the first time, exported once their settle time is over.
    public private(set) var settling: [ServiceID: Instant] = [:]
    private var permission: Permission
    private let settleTime: Interval

    /// - Parameter settleTime: how long a newly seen service waits before its first export.
    ///   Avahi reports a service at its first resolution and its other address family a few
    ///   milliseconds later; exporting at once would put the record twice, and the importing
    ///   island would re-register its publication for the second address, which Avahi holds
    ///   back for a second (its register rate limit). Changes of a service already exported
    ///   and removals are carried out at once.
    public init(permission: @escaping Permission, settleTime: Interval = .milliseconds(40)) {
        self.permission = permission
        self.settleTime = settleTime
    }

    /// When the next settling service is due.
    public var nextDeadline: Instant? { settling.values.min() }

    /// Exports the services whose settle time is over.
    public mutating func tick(now: Instant) -> [ExportEffect] {
        let due = settling.filter { $0.value <= now }.keys.sorted()
        for id in due { settling[id] = nil }
        return due.flatMap { reconcile($0) }
    }

    /// Starts exporting as the leader of `island`; returns a put for everything exportable.
    public mutating func activate(island: IslandID, name: String) -> [ExportEffect] {
        self.island = island
        islandName = name
        isActive = true
        return reconcileAll()
    }

    /// Stops exporting (no longer the leader): deletes everything exported.
    public mutating func deactivate() -> [ExportEffect] {
        isActive = false
        settling = [:]
        let removals = exported.keys.sorted().map { ExportEffect.remove($0.type, $0.name) }
        exported = [:]
        return removals
    }

    /// A new policy: exports are re-decided.
    public mutating func setPermission(_ permission: @escaping Permission) -> [ExportEffect] {
        self.permission = permission
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

    /// The record this service would be exported as, or why not.
    public func decide(_ service: DiscoveredService) -> Result<ServiceRecord, ExportSkipError> {
        let instance = service.instance
        if service.origin.contains(.ourOwn) { return .failure(.init(.ourOwn)) }
        if instance.type == GatewayAdvert.serviceType { return .failure(.init(.gatewayAdvert)) }
        if SynthesizedHost.isSynthesized(instance.host) { return .failure(.init(.gatewayPublished)) }
        let verdict = permission(instance.type)
        guard verdict.permitted else { return .failure(.init(.denied(rule: verdict.rule))) }
        let routable = instance.routableAddresses
        guard !routable.isEmpty else { return .failure(.init(.noRoutableAddress)) }
        let label = instance.host.labels.first.map(String.init) ?? "host"
        return .success(ServiceRecord(
            island: island ?? IslandID(rawValue: 0), islandName: islandName, name: instance.name, type: instance.type,
            subtypes: instance.subtypes, port: instance.port, txt: instance.txt,
            addresses: Array(routable.prefix(ServiceRecord.maximumAddresses)), hostLabel: label))
    }

    private mutating func reconcileAll() -> [ExportEffect] {
        Set(services.keys).union(exported.keys).sorted().flatMap { reconcile($0) }
    }

    private mutating func reconcile(_ id: ServiceID) -> [ExportEffect] {
        let decision = services[id].map(decide)
        guard isActive else { return [] }
        switch decision {
        case .success(let record)?:
            guard exported[id] != record else { return [] }
            exported[id] = record
            return [.put(record)]
        case .failure(let skip)?:
            let removal: [ExportEffect] = exported.removeValue(forKey: id) != nil ? [.remove(id.type, id.name)] : []
            return removal + [.skipped(id, skip.skip)]
        case nil:
            return exported.removeValue(forKey: id) != nil ? [.remove(id.type, id.name)] : []
        }
    }
}

/// `ExportSkip` as an error, so `decide` can return a `Result`.
public struct ExportSkipError: Error, Hashable, Sendable {
    public var skip: ExportSkip
    public init(_ skip: ExportSkip) { self.skip = skip }
}
