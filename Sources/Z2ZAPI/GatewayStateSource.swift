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
}

extension GatewayStateSource {
    /// A source without SIP knows no agents.
    public func sipAgents() async -> [SIPAgentInfo] { [] }
}

/// A `GatewayStateSource` that answers what it was given: for tests, and for a daemon whose
/// gateway core has not started yet.
public final class StaticGatewayState: GatewayStateSource {
    public struct Snapshot: Hashable, Sendable {
        public var status: StatusResponse
        public var islands: [IslandInfo]
        public var peers: [PeerInfo]
        public var services: [ServiceJSON]

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
}
