import DNSSD
import Foundation
import Gateway
import GatewayReports
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous
import SIP
import Synchronization
import Z2ZAPI

/// The running gateway as the local API sees it: the reports (`GatewayReports`) over one
/// driver snapshot and the rendezvous' statistics — never a decision of its own. Only
/// `explain` and SIP lookups reach the network: each DHT get is bounded by `explainTimeout`.
public final class GatewayStatus: GatewayStateSource {
    private let driver: GatewayDriver
    private let rendezvous: any Rendezvous
    private let network: String
    private let gatewayMetrics: GatewayMetrics?
    /// How long `explain` waits for the DHT's answer per type.
    private let explainTimeout: Duration
    /// What the leaders' relay carried (nil: it runs none).
    private let relayMetrics: (@Sendable () -> RelayMetricsSnapshot)?
    /// The SIP service's registrations and contact checks, once it exists.
    private let sipServiceState = Mutex<(@Sendable () -> SIPServiceState)?>(nil)

    public init(driver: GatewayDriver, rendezvous: any Rendezvous, network: String, metrics: GatewayMetrics? = nil,
                explainTimeout: Duration = .seconds(3), relayMetrics: (@Sendable () -> RelayMetricsSnapshot)? = nil) {
        self.driver = driver
        self.relayMetrics = relayMetrics
        self.rendezvous = rendezvous
        self.network = network
        gatewayMetrics = metrics
        self.explainTimeout = explainTimeout
    }

    public func status() async -> StatusResponse {
        let snapshot = await driver.snapshot()
        return StatusReport.status(snapshot.view, stats: await rendezvous.stats(), network: network,
                                   uptime: snapshot.started.duration(to: .now).seconds, refused: snapshot.refusedImports,
                                   advertRefusal: snapshot.advertRefusal)
    }

    public func islands() async -> [IslandInfo] { StatusReport.islands(await driver.snapshot().view) }

    public func peers() async -> [PeerInfo] {
        let view = await driver.snapshot().view
        guard view.role == .leader, let inspectable = rendezvous as? any DHTInspectable else {
            return StatusReport.peers(view, dht: nil)
        }
        return StatusReport.peers(view, dht: await inspectable.inspectDHT())
    }

    public func services() async -> [ServiceJSON] {
        let snapshot = await driver.snapshot()
        return StatusReport.services(snapshot.view, refused: snapshot.refusedImports)
    }

    public func sipAgents() async -> [SIPAgentInfo] { StatusReport.sipAgents(await driver.snapshot().view) }

    public func sipService() async -> SIPServiceState { sipServiceState.withLock { $0 }?() ?? SIPServiceState() }

    /// Where `sipService()` reads from (the SIP server is made after this status).
    public func readSIPService(from read: @escaping @Sendable () -> SIPServiceState) {
        sipServiceState.withLock { $0 = read }
    }

    /// The contacts for `addressOfRecord`: held here (`SIPDirectory`), else — for a leader,
    /// which takes part in the rendezvous — from one DHT get on the AoR's own key.
    public func lookUp(_ addressOfRecord: SIPAddressOfRecord) async -> [SIPContact] {
        let view = await driver.snapshot().view
        let held = SIPDirectory.contacts(for: addressOfRecord, among: SIPDirectory.services(of: view))
        guard held.isEmpty, view.isLeading else { return held }
        let key = RecordKeys.sip(addressOfRecord, network: view.network)
        guard let values = try? await rendezvous.get(key: key) else { return [] }
        return SIPDirectory.contacts(for: addressOfRecord, in: values.compactMap { try? ServiceRecordCodec.decode($0.payload) })
    }

    /// The contacts of every UA held or imported here whose AoR has this user part.
    public func lookUp(user: [UInt8]) async -> [SIPContact] {
        let view = await driver.snapshot().view
        return SIPDirectory.contacts(forUser: user, among: SIPDirectory.services(of: view))
    }

    public func dht() async -> DHTResponse {
        if let inspectable = rendezvous as? any DHTInspectable, let answer = await inspectable.inspectDHT() { return answer }
        let status = await status()
        let stats = await rendezvous.stats()
        return DHTResponse(engine: stats.engine, available: false, nodeID: status.nodeID, stage: status.stage.rawValue,
                           overlayID: status.overlayID, subscriptions: stats.subscriptions)
    }

    func rendezvousStats() async -> RendezvousStats { await rendezvous.stats() }

    public func events(after sequence: UInt64) async -> EventsResponse { await driver.events(after: sequence) }

    public func explain(_ query: String) async -> ExplainResponse {
        let snapshot = await driver.snapshot()
        let explainer = ServiceExplainer(view: snapshot.view, events: snapshot.events, refused: snapshot.refusedImports)
        var answers: [ServiceType: ServiceExplainer.DHTAnswer] = [:]
        // A query naming no type may match several; a handful is plenty for one person's question.
        for type in explainer.types(for: query).prefix(8) {
            answers[type] = await Self.get(snapshot.view.typeKey(type), from: rendezvous, timeout: explainTimeout)
        }
        return explainer.explain(query, dht: answers)
    }

    public func metrics() async -> String {
        guard let gatewayMetrics else { return "" }
        let stats = await rendezvous.stats()
        gatewayMetrics.scrape(status: await status(), dhtPeers: stats.peers, storedValues: stats.storedValues)
        gatewayMetrics.refusals(stats.refusals)
        if let relayMetrics { gatewayMetrics.relay(relayMetrics()) }
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

}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
