import Primitives

/// The exporting leader's decisions about relayed streams, as a value: which requests are
/// admitted, which are refused and why, which open streams a revocation closes, and the
/// counts behind the metrics. No socket and no clock; the adapter (`RelayExporter`) asks
/// the gateway's authorizer, passes its answer in, and carries out what comes back.
///
/// Invariants: a revoked instance admits nothing until reinstated; every refusal is
/// counted once, under one reason; the limits hold at every admission (`StreamBook`
/// counts a stream from admission until it ends, fails or is revoked).
public struct ExportGate: Sendable {
    /// The decision on one stream request.
    public enum Admission: Hashable, Sendable {
        /// Connect to these LAN endpoints (in order) and splice; report the outcome with
        /// `book.ended` or `book.failed`.
        case admitted(StreamID, [Endpoint])
        case refused(RelayRefusal)
    }

    public var limits: RelayLimits
    public var book = StreamBook()
    private var revoked: [ServiceRef] = []

    public init(limits: RelayLimits) { self.limits = limits }

    public var report: RelayReport { book.report }

    /// Decides a stream request from an authenticated `requester`, given what the
    /// authorizer answered for it. Checks, in order: revoked, the authorizer's answer, that
    /// it named an endpoint, the peer's limit, the service's limit.
    public mutating func admit(requester: NodeID, service: ServiceRef,
                               authorization: Result<[Endpoint], RelayRefusal>) -> Admission {
        let named = authorization.flatMap { endpoints -> Result<[Endpoint], RelayRefusal> in
            endpoints.isEmpty ? .failure(.unreachable) : .success(endpoints)
        }
        switch decide(requester: requester, service: service, named) {
        case .success((let id, let endpoints)): return .admitted(id, endpoints)
        case .failure(let reason): return .refused(reason)
        }
    }

    /// Decides a stream request this leader would forward to another leader (a circuit,
    /// `RelayExporter.Circuit`), given where the circuit policy routes it: the stream counts
    /// against the same limits, and revocation applies, as for a service of its own island.
    /// Checks, in order: revoked, the route, the peer's limit, the service's limit.
    public mutating func admitCircuit(requester: NodeID, service: ServiceRef,
                                      route: Result<NodeID, RelayRefusal>) -> Result<StreamID, RelayRefusal> {
        decide(requester: requester, service: service, route).map { $0.0 }
    }

    /// Admits (adds to the book) or refuses (counts the refusal) a request `answer` allows.
    private mutating func decide<T>(requester: NodeID, service: ServiceRef,
                                    _ answer: Result<T, RelayRefusal>) -> Result<(StreamID, T), RelayRefusal> {
        let decision = isRevoked(service) ? .failure(.revoked) : answer.flatMap { value -> Result<T, RelayRefusal> in
            if book.count(peer: requester) >= limits.connectionsPerPeer { return .failure(.limitConnectionsPeer) }
            if book.count(service: service) >= limits.connectionsPerService { return .failure(.limitConnectionsService) }
            return .success(value)
        }
        switch decision {
        case .failure(let reason):
            book.refuse(reason)
            return .failure(reason)
        case .success(let value):
            return .success((book.add(peer: requester, service: service), value))
        }
    }

    /// Refuses new streams for the instance (both transports) until `reinstate`, and returns
    /// the open streams to close; they count as ended by revocation now.
    public mutating func revoke(_ service: ServiceRef) -> [StreamID] {
        if !isRevoked(service) { revoked.append(service) }
        return book.close(as: .revoked) { $0.isSameInstance(as: service) }
    }

    public mutating func reinstate(_ service: ServiceRef) {
        revoked.removeAll { $0.isSameInstance(as: service) }
    }

    public func isRevoked(_ service: ServiceRef) -> Bool {
        revoked.contains { $0.isSameInstance(as: service) }
    }
}
