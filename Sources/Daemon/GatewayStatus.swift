import DNSSD
import Foundation
import Gateway
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous
import SIP
import Synchronization
import Z2ZAPI

/// The running gateway as the local API sees it: answers built from one driver snapshot and
/// the rendezvous statistics, never from the network — except `explain`, which asks the
/// DHT for the type keys involved, each bounded by `explainTimeout`.
public final class GatewayStatus: GatewayStateSource {
    private let driver: GatewayDriver
    private let rendezvous: any Rendezvous
    private let network: String
    private let policy: @Sendable () -> Policy
    private let gatewayMetrics: GatewayMetrics?
    /// How long `explain` waits for the DHT's answer per type.
    private let explainTimeout: Duration

    public init(driver: GatewayDriver, rendezvous: any Rendezvous, network: String, policy: @escaping @Sendable () -> Policy,
                metrics: GatewayMetrics? = nil, explainTimeout: Duration = .seconds(3)) {
        self.driver = driver
        self.rendezvous = rendezvous
        self.network = network
        self.policy = policy
        gatewayMetrics = metrics
        self.explainTimeout = explainTimeout
    }

    public func status() async -> StatusResponse {
        let snapshot = await driver.snapshot()
        let stats = await rendezvous.stats()
        let machine = snapshot.machine
        let services = ServiceCounts(local: Self.localServices(snapshot).count, imported: machine.imports.imports.count,
                                     exported: machine.export.exported.count)
        return StatusResponse(
            nodeID: "\(machine.settings.id)", network: network, island: Self.island(machine), role: GatewayRole(rawValue: machine.role.rawValue),
            leaderID: machine.election.leader.map { "\($0)" }, stage: Self.stage(machine, stats),
            overlayID: stats.overlayID.map { String($0, radix: 16) }, peerCount: machine.election.peers.count + stats.peers,
            services: services, uptimeSeconds: snapshot.started.duration(to: .now).seconds,
            avahi: Self.avahi(snapshot.connection), health: Self.health(snapshot, stats))
    }

    public func islands() async -> [IslandInfo] {
        let machine = await driver.snapshot().machine
        var islands: [IslandInfo] = []
        let local = machine.island
        if let local {
            islands.append(IslandInfo(id: "\(local)", name: machine.islandName, isLocal: true,
                                      leaderID: machine.election.leader.map { "\($0)" },
                                      serviceCount: machine.export.exported.count))
        }
        // One row per island: the entry of its current leader (a leader killed with SIGKILL
        // leaves its entry behind until it expires).
        let leaders = machine.islandLeaders
        let current = machine.directory.filter { leaders[$0.value.island] == $0.key.owner }.values
        for entry in current.sorted(by: { $0.island.rawValue < $1.island.rawValue }) where entry.island != local {
            islands.append(IslandInfo(id: "\(entry.island)", name: entry.name, leaderID: "\(entry.leader)",
                                      serviceCount: entry.services))
        }
        return islands
    }

    public func peers() async -> [PeerInfo] {
        let machine = await driver.snapshot().machine
        let island = Self.island(machine)
        var peers = machine.election.peers.values.sorted { $0.id < $1.id }.map { peer in
            PeerInfo(id: "\(peer.id)", endpoint: "\(peer.endpoint)", kind: .islandGateway,
                     role: GatewayRole(rawValue: peer.role.rawValue), island: peer.island.map { IslandRef(id: "\($0)") } ?? island,
                     state: peer.lastHeard == nil ? .suspect : .alive)
        }
        // Other islands' leaders: the DHT's contacts, with the node's smoothed round-trip
        // time (the table keeps no per-contact RTT) and their failures as the state.
        if machine.role == .leader, let inspectable = rendezvous as? any DHTInspectable, let dht = await inspectable.inspectDHT() {
            let leaders = Dictionary(machine.directory.values.map { ("\($0.leader)", $0) }, uniquingKeysWith: { first, _ in first })
            for contact in dht.routingTable where !peers.contains(where: { $0.id == contact.id }) {
                let entry = leaders[contact.id]
                peers.append(PeerInfo(
                    id: contact.id, endpoint: contact.endpoint, kind: .remoteLeader, role: entry == nil ? nil : .leader,
                    island: entry.map { IslandRef(id: "\($0.island)", name: $0.name.isEmpty ? nil : $0.name) },
                    rttMilliseconds: dht.rttMilliseconds, state: contact.failures == 0 ? .alive : .suspect))
            }
        }
        return peers
    }

    public func services() async -> [ServiceJSON] {
        let snapshot = await driver.snapshot()
        let machine = snapshot.machine
        let policy = policy()
        let here = Self.island(machine)
        let subject = PolicyIsland(id: machine.island?.rawValue, name: machine.islandName)
        var services = Self.localServices(snapshot).map { service in
            var json = ServiceJSON(service)
            json.origin = .local
            json.island = here
            json.policy = PolicyVerdict(policy.evaluate(direction: .export, type: service.instance.type, island: subject))
            return json
        }
        for (key, imported) in machine.imports.imports.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            let record = imported.record
            let publication = imported.publication
            var host = ""
            if case .synthesized(let name, _) = publication.host { host = name.value }
            var json = ServiceJSON(
                name: publication.name.value, type: publication.type.description, domain: publication.domain.value, host: host,
                port: publication.port,
                txt: publication.txt.entries.map { .init(key: $0.key, value: $0.value.map { Data($0).base64EncodedString() }, text: $0.text) },
                subtypes: publication.subtypes.map(\.label),
                addresses: record.addresses.map { .init(address: $0.description, interface: "n/a") },
                local: true, ourOwn: true, origin: .imported, island: IslandRef(id: "\(key.island)", name: record.islandName))
            json.policy = PolicyVerdict(policy.evaluate(direction: .import, type: record.type,
                                                        island: PolicyIsland(id: key.island.rawValue, name: record.islandName)))
            services.append(json)
        }
        return services
    }

    public func sipAgents() async -> [SIPAgentInfo] {
        let snapshot = await driver.snapshot()
        let machine = snapshot.machine
        let here = Self.island(machine)
        var sources: [(ServiceInstance, IslandRef)] = []
        if machine.export.isActive {
            sources += SIPDirectory.linkServices(machine).map { ($0, here) }
            sources += machine.imports.imports.values.map {
                (SIPDirectory.instance(of: $0), IslandRef(id: "\($0.record.island)", name: $0.record.islandName))
            }
        } else {
            // A follower knows its link: imports show as services on synthesized hosts.
            sources += snapshot.localServices.values.map {
                ($0.instance, SynthesizedHost.isSynthesized($0.instance.host) ? IslandRef(id: nil) : here)
            }
        }
        return sources.compactMap { instance, island -> SIPAgentInfo? in
            guard SIPAnnouncement.isSIPServiceType(instance.type),
                  let announcement = try? SIPAnnouncement(service: instance) else { return nil }
            return SIPAgentInfo(addressOfRecord: "\(announcement.uri)", instance: instance.name.value,
                                type: instance.type.description, island: island,
                                contacts: announcement.contacts(for: instance).map { "\($0.uri)" })
        }.sorted { ($0.addressOfRecord, $0.instance) < ($1.addressOfRecord, $1.instance) }
    }

    public func dht() async -> DHTResponse {
        if let inspectable = rendezvous as? any DHTInspectable, let answer = await inspectable.inspectDHT() { return answer }
        let status = await status()
        let stats = await rendezvous.stats()
        return DHTResponse(engine: stats.engine, available: false, nodeID: status.nodeID, stage: stats.stage.rawValue,
                           overlayID: status.overlayID, subscriptions: stats.subscriptions)
    }

    func rendezvousStats() async -> RendezvousStats { await rendezvous.stats() }

    public func events(after sequence: UInt64) async -> EventsResponse { await driver.events(after: sequence) }

    public func explain(_ query: String) async -> ExplainResponse {
        let snapshot = await driver.snapshot()
        let explainer = ServiceExplainer(machine: snapshot.machine, events: snapshot.eventLog, policy: policy())
        var answers: [ServiceType: ServiceExplainer.DHTAnswer] = [:]
        // A query naming no type may match several; a handful is plenty for one person's question.
        for type in explainer.types(for: query).prefix(8) {
            answers[type] = await Self.get(RecordKeys.type(type, network: snapshot.machine.settings.network),
                                           from: rendezvous, timeout: explainTimeout)
        }
        return explainer.explain(query, dht: answers)
    }

    public func metrics() async -> String {
        guard let gatewayMetrics else { return "" }
        let stats = await rendezvous.stats()
        gatewayMetrics.scrape(status: await status(), dhtPeers: stats.peers, storedValues: stats.storedValues)
        gatewayMetrics.refusals(stats.refusals)
        return gatewayMetrics.exposition()
    }

    /// A DHT get that gives up after `timeout`. The get itself is not cancellable midway
    /// (a lookup ends on its own timeouts), so it runs in a task of its own and its late
    /// answer is dropped; the race is resolved once, under a lock.
    static func get(_ key: RecordKey, from rendezvous: any Rendezvous, timeout: Duration) async -> ServiceExplainer.DHTAnswer {
        let resolved = Once()
        let answer = await withCheckedContinuation { continuation in
            resolved.slot.withLock { $0 = continuation }
            let finish: @Sendable (ServiceExplainer.DHTAnswer) -> Void = { answer in
                resolved.slot.withLock { slot in
                    defer { slot = nil }
                    return slot
                }?.resume(returning: answer)
            }
            let timer = Task {
                try await Task.sleep(for: timeout)
                finish(.unanswered("no answer within \(timeout)"))
            }
            Task {
                do { finish(.values(try await rendezvous.get(key: key))) } catch { finish(.unanswered("\(error)")) }
                timer.cancel()
            }
        }
        return answer
    }

    /// The continuation of a race, resumed by whichever side comes first.
    private final class Once: Sendable {
        let slot = Mutex<CheckedContinuation<ServiceExplainer.DHTAnswer, Never>?>(nil)
    }

    // MARK: pieces

    /// Services hosts on this link publish: not our imports, not any gateway's (synthesized
    /// hosts of any island), not the gateways' own adverts.
    static func localServices(_ snapshot: GatewayDriver.Snapshot) -> [DiscoveredService] {
        snapshot.localServices.values
            .filter { $0.isPublishedByAHost && $0.instance.type != GatewayAdvert.serviceType }
            .sorted { "\($0.id)" < "\($1.id)" }
    }

    static func island(_ machine: GatewayMachine) -> IslandRef {
        IslandRef(id: machine.island.map { "\($0)" }, name: machine.settings.islandName)
    }

    static func stage(_ machine: GatewayMachine, _ stats: RendezvousStats) -> Stage {
        guard machine.election.leader != nil else { return .bootstrapping }
        switch stats.stage {
        case .alone: return machine.role == .leader ? .interconnection : .bootstrapping
        case .interconnection: return .interconnection
        case .structure: return .structure
        case .merging: return .merging
        }
    }

    static func avahi(_ connection: ConnectionState) -> AvahiStatus {
        switch connection {
        case .running: AvahiStatus(state: .connected)
        case .connecting(let detail): AvahiStatus(state: .connecting, detail: detail)
        case .unavailable(let detail): AvahiStatus(state: .unavailable, detail: detail)
        }
    }

    static func health(_ snapshot: GatewayDriver.Snapshot, _ stats: RendezvousStats) -> Health {
        var reasons: [String] = []
        switch snapshot.connection {
        case .running: break
        case .connecting(let detail): reasons.append("avahi-daemon: connecting (\(detail))")
        case .unavailable(let detail): reasons.append("avahi-daemon unavailable: \(detail)")
        }
        if snapshot.machine.election.leader == nil { reasons.append("no leader elected yet") }
        if snapshot.machine.role == .leader, stats.peers == 0 {
            reasons.append("no other island reached (give a --bootstrap address of another island's gateway)")
        }
        return reasons.isEmpty ? .ok : Health(state: .degraded, reasons: reasons)
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
