import Primitives

/// Read-only views of a node's insides for status pages (`GET /api/v1/dht`): what runs now,
/// without handing out the internal lookup state.
extension DHTNode {
    /// A lookup in progress, as a status page shows it.
    public struct LookupSummary: Hashable, Sendable {
        public var target: NodeID
        /// `bootstrap`, `merge`, `lookup`, `put`, `republish`, `get`, `subscribe`, `bucket_refresh`, `neighbourhood`.
        public var purpose: String
        public var queries: Int
        public var inFlight: Int
        public var candidates: Int
        public var started: Instant
    }

    /// The lookups running now, oldest first.
    public var activeLookups: [LookupSummary] {
        lookups.values.sorted { $0.started < $1.started }.map {
            LookupSummary(target: $0.lookup.target, purpose: $0.name, queries: $0.lookup.queries,
                          inFlight: $0.lookup.inFlight, candidates: $0.lookup.candidates.count, started: $0.started)
        }
    }

    /// The smoothed round-trip time of this node's requests (what its timeouts follow), in seconds.
    public var smoothedRoundTrip: Double? { rtt.smoothed }

    /// Direct exchange: stores sent to members and not acknowledged yet (`Redelivery`).
    public var unacknowledgedStores: Int { redelivery.count }
}
