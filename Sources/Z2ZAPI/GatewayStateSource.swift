import Synchronization

/// What the local API asks of the running gateway. z2zd's gateway core implements it; the
/// API server only serializes what it answers (filtering and policy tests happen in the API).
///
/// Answers are snapshots: each call returns the state at that moment, cheaply (the API
/// calls it once per request), and never blocks on the network.
public protocol GatewayStateSource: Sendable {
    func status() async -> StatusResponse
    /// Every island known, this one first.
    func islands() async -> [IslandInfo]
    func peers() async -> [PeerInfo]
    /// Every service known: local ones with `origin = local` and their export verdict,
    /// imported ones with `origin = imported` and their import verdict.
    func services() async -> [ServiceJSON]
    /// SIP user agents known on this island and imported from others, by address of record.
    func sipAgents() async -> [SIPAgentInfo]
    /// The SIP service's registrations and contact checks.
    func sipService() async -> SIPServiceState
    /// The DHT node's routing table, stored values and running lookups.
    func dht() async -> DHTResponse
    /// Recent events newer than sequence number `after` (0: all that are kept).
    func events(after: UInt64) async -> EventsResponse
    /// Traces an instance (`Printer._ipp._tcp`, or its bare name) or every instance of a type
    /// (`_ipp._tcp`) through the gateway. May ask the DHT (bounded by a timeout).
    func explain(_ query: String) async -> ExplainResponse
    /// The Prometheus text exposition (`GET /metrics`).
    func metrics() async -> String
}

extension GatewayStateSource {
    /// A source without SIP knows no agents.
    public func sipAgents() async -> [SIPAgentInfo] { [] }
    public func sipService() async -> SIPServiceState { SIPServiceState() }
    public func dht() async -> DHTResponse {
        let status = await status()
        return DHTResponse(engine: "none", available: false, nodeID: status.nodeID, stage: status.stage.rawValue,
                           overlayID: status.overlayID)
    }
    public func events(after: UInt64) async -> EventsResponse { EventsResponse(events: [], last: 0) }
    public func explain(_ query: String) async -> ExplainResponse {
        ExplainResponse(query: query, role: await status().role, traces: [], summary: "this gateway cannot explain services")
    }
    public func metrics() async -> String { "" }
}

/// A `GatewayStateSource` that answers what it was given: for tests, and for a daemon whose
/// gateway core has not started yet.
public final class StaticGatewayState: GatewayStateSource {
    public struct Snapshot: Hashable, Sendable {
        public var status: StatusResponse
        public var islands: [IslandInfo]
        public var peers: [PeerInfo]
        public var services: [ServiceJSON]
        public var dht: DHTResponse?
        public var events: [GatewayEvent] = []
        /// Answers of `explain`, by query.
        public var explanations: [String: ExplainResponse] = [:]
        public var metrics = ""

        public init(status: StatusResponse, islands: [IslandInfo] = [], peers: [PeerInfo] = [], services: [ServiceJSON] = []) {
            self.status = status
            self.islands = islands
            self.peers = peers
            self.services = services
        }
    }

    private let state: Mutex<Snapshot>

    public init(_ snapshot: Snapshot) { state = Mutex(snapshot) }

    /// Replaces part of the state, e.g. `source.update { $0.status.health = .ok }`.
    public func update(_ change: (inout Snapshot) -> Void) { state.withLock { change(&$0) } }

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func status() async -> StatusResponse { snapshot.status }
    public func islands() async -> [IslandInfo] { snapshot.islands }
    public func peers() async -> [PeerInfo] { snapshot.peers }
    public func services() async -> [ServiceJSON] { snapshot.services }
    public func dht() async -> DHTResponse {
        if let dht = snapshot.dht { return dht }
        let status = snapshot.status
        return DHTResponse(engine: "none", available: false, nodeID: status.nodeID, stage: status.stage.rawValue,
                           overlayID: status.overlayID)
    }
    public func events(after: UInt64) async -> EventsResponse {
        let events = snapshot.events
        return EventsResponse(events: events.filter { $0.sequence > after }, last: events.last?.sequence ?? 0)
    }
    public func explain(_ query: String) async -> ExplainResponse {
        snapshot.explanations[query]
            ?? ExplainResponse(query: query, role: snapshot.status.role, traces: [], summary: "no service \(query) is known")
    }
    public func metrics() async -> String { snapshot.metrics }
}
