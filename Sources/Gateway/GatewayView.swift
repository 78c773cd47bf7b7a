import DNSSD
import Island
import Primitives
import LocalDomain
import Policy
import Rendezvous

/// The gateway machine read-only, as the reports see it (`GatewayReports`: status,
/// services, explain, the SIP directory). A copy taken at one moment; it answers questions
/// with the same code the machine decides with (`exportDecision` is the export planner's
/// own decision, verdicts come from the machine's `PolicyGate`), so a report can never work
/// a decision out differently from the machine.
public struct GatewayView: Sendable {
    private let machine: GatewayMachine

    init(_ machine: GatewayMachine) { self.machine = machine }

    // MARK: this gateway and its island

    public var node: NodeID { machine.settings.id }
    public var network: NetworkID { machine.settings.network }
    public var island: IslandID? { machine.island }
    /// The island's name as other islands see it (the configured one, else its id's first digits).
    public var islandName: String { machine.islandName }
    /// The name given in the configuration, if any.
    public var configuredIslandName: String? { machine.settings.islandName }
    public var role: Role { machine.role }
    public var leader: NodeID? { machine.election.leader }
    public var term: UInt64 { machine.election.term }
    /// Leading: exporting, importing and taking part in the rendezvous.
    public var isLeading: Bool { machine.export.isActive }
    public var stage: Stage { machine.stage }
    /// The local responder's connection (avahi-daemon).
    public var responder: ConnectionState { machine.responder }
    /// The other gateways of this island's link, by id.
    public var peers: [Election.Peer] { machine.election.peers.values.sorted { $0.id < $1.id } }

    // MARK: policy

    /// The gate every verdict comes from, with this island as the subject of exports.
    public var gate: PolicyGate { machine.export.gate }

    /// The export verdict for a service on this link.
    public func exportVerdict(_ service: DiscoveredService) -> Verdict {
        gate.exportVerdict(PolicyService(service.instance))
    }

    /// The import verdict for a remote instance, as its record describes it.
    public func importVerdict(_ record: ServiceRecord) -> Verdict {
        machine.imports.verdict(record)
    }

    // MARK: the link and exports

    /// Every service on the link as last seen, hosts' and gateways' (imports, adverts).
    public var linkServices: [DiscoveredService] { machine.export.services.values.sorted { $0.id < $1.id } }
    public func linkService(_ id: ServiceID) -> DiscoveredService? { machine.export.services[id] }

    /// Services hosts on this link publish: not any gateway's publications nor adverts.
    public var hostServices: [DiscoveredService] {
        machine.export.services.values
            .filter { $0.isPublishedByAHost && $0.instance.type != GatewayAdvert.serviceType }
            .sorted { $0.id < $1.id }
    }

    /// Where a service on the link stands with the export side (the planner's own decision).
    public func exportDecision(_ service: DiscoveredService) -> ExportDecision { machine.export.decision(for: service) }

    /// What this gateway exports now, by instance.
    public var exports: [ServiceID: ServiceRecord] { machine.export.exported }
    /// Exportable services left out because their type has as many exports as the DHT
    /// holds from one island (`ExportSkip.typeFull`).
    public var cappedExports: Set<ServiceID> { machine.export.capped }
    /// That limit: exports per type.
    public var exportsPerType: Int { machine.export.valuesPerType }
    /// How long a newly seen service waits before its first export.
    public var settleTime: Interval { machine.export.settleTime }
    /// The DHT key instances of `type` are exported under.
    public func typeKey(_ type: ServiceType) -> RecordKey { RecordKeys.type(type, network: network) }
    /// The value id an instance is exported under.
    public func valueID(_ name: InstanceName, _ type: ServiceType) -> UInt64 { RecordKeys.valueID(of: name, type: type) }

    /// Where the leaders' relay may connect so that `requester` — another island's leader —
    /// reaches this island's service `id`: the service's addresses on this link (link-local
    /// ones with their interface) and its port, while this gateway leads and exports it now;
    /// else why not. The relay is never an open proxy: nothing else on the link is reachable.
    public func relayTarget(_ id: ServiceID, for requester: NodeID) -> Result<RelayTarget, RelayDenial> {
        guard isLeading else { return .failure(.notLeading) }
        guard let entry = directoryLeaders[requester], entry.island != island else { return .failure(.notAGateway) }
        return relayTarget(id)
    }

    /// Where the relay may connect for this island's service `id`, whoever asks (the relay's
    /// own authentication admits only gateways of the network): see `relayTarget(_:for:)`.
    public func relayTarget(_ id: ServiceID) -> Result<RelayTarget, RelayDenial> {
        guard isLeading else { return .failure(.notLeading) }
        guard let service = linkService(id), service.isPublishedByAHost else { return .failure(.unknownService) }
        guard exports[id] != nil else { return .failure(.notExported) }
        return .success(RelayTarget(addresses: service.linkAddresses, port: service.instance.port))
    }

    /// The interfaces of this gateway's LAN: those its own advert (`_z2z._udp`) is seen on,
    /// that is, where the local responder runs. The relay listens and publishes there only.
    public var lanInterfaces: [InterfaceIndex] {
        let own = machine.export.services.values.filter { $0.origin.contains(.ourOwn) && $0.instance.type == GatewayAdvert.serviceType }
        return Array(Set(own.flatMap(\.interfaces))).sorted()
    }

    // MARK: imports

    /// What is published on this link for other islands, by instance.
    public var imports: [ImportKey: ImportPlanner.Imported] { machine.imports.imports }
    /// Remote instances received by subscription (values of any owner).
    public var received: [ImportKey] { machine.imports.remote.keys.sorted() }
    /// The values received for one remote instance, by the slot that holds them.
    public func received(_ key: ImportKey) -> [ValueSlot: ServiceRecord] {
        machine.imports.remote[key]?.mapValues(\.record) ?? [:]
    }
    /// Why a received instance is not published here, if it is held back.
    public func held(_ key: ImportKey) -> ImportHold? { machine.imports.held[key] }
    /// The types this leader follows (subscribed to).
    public var subscribedTypes: Set<ServiceType> { machine.subscribedTypes }

    // MARK: other islands

    /// Other islands as the directory names them: the entry of each one's current leader.
    public var otherIslands: [IslandDirectoryEntry] {
        let leaders = machine.islandLeaders
        return machine.directory.filter { leaders[$0.value.island] == $0.key.owner && $0.value.island != island }
            .values.sorted { $0.island.rawValue < $1.island.rawValue }
    }

    /// Every directory entry's leader, by node id (an island killed with SIGKILL may still have
    /// a stale entry; both its leaders are named).
    public var directoryLeaders: [NodeID: IslandDirectoryEntry] {
        Dictionary(machine.directory.values.map { ($0.leader, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The name an island goes by in the directory, if it is there.
    public func islandName(of id: IslandID) -> String? {
        machine.directory.values.first { $0.island == id }?.name
    }
}

/// Where the relay connects for a stream to one of this island's services.
public struct RelayTarget: Hashable, Sendable {
    /// The service's addresses with the interface each was resolved on (link-local ones need it).
    public var addresses: [LinkAddress]
    public var port: UInt16

    public init(addresses: [LinkAddress], port: UInt16) {
        self.addresses = addresses
        self.port = port
    }
}

/// Why the relay refuses a stream to a service of this island; `rawValue` is the metric label.
public enum RelayDenial: String, Hashable, Sendable, Error {
    /// This gateway does not lead its island: its leader relays.
    case notLeading = "not_leading"
    /// The requester leads no other island the directory knows.
    case notAGateway = "not_a_gateway"
    /// No host on this link publishes it.
    case unknownService = "unknown_service"
    /// It is on the link but not exported (the policy, or nothing another island may use).
    case notExported = "not_exported"
}
