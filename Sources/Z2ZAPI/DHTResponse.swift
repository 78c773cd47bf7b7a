/// `GET /api/v1/dht`: the DHT node under the rendezvous — its routing table, the values it
/// holds for others and its own, and the lookups running now. Engines that cannot show their
/// insides answer with `available = false` and the counts they have.
public struct DHTResponse: Codable, Hashable, Sendable {
    /// `native` (z2z's Kademlia), `opendht`, `memory`.
    public var engine: String
    /// False when the engine does not expose its table and store.
    public var available: Bool
    /// This node's id (64 hex digits).
    public var nodeID: String
    /// The DHT node's own stage (`Stage`): `bootstrapping` (it knows no other node), `interconnection`, `structure`, `merging`.
    public var stage: String
    public var overlayID: String?
    public var routingTable: [Contact]
    public var storedValues: [StoredValue]
    public var activeLookups: [Lookup]
    /// Keys this node is subscribed to.
    public var subscriptions: Int
    /// Smoothed round-trip time of this node's requests, in milliseconds.
    public var rttMilliseconds: Double?
    /// Direct exchange across NAT; nil when the engine does not say (or before this field).
    public var bridging: Bridging?

    public init(engine: String, available: Bool, nodeID: String, stage: String, overlayID: String? = nil,
                routingTable: [Contact] = [], storedValues: [StoredValue] = [], activeLookups: [Lookup] = [],
                subscriptions: Int = 0, rttMilliseconds: Double? = nil, bridging: Bridging? = nil) {
        self.engine = engine
        self.available = available
        self.nodeID = nodeID
        self.stage = stage
        self.overlayID = overlayID
        self.routingTable = routingTable
        self.storedValues = storedValues
        self.activeLookups = activeLookups
        self.subscriptions = subscriptions
        self.rttMilliseconds = rttMilliseconds
        self.bridging = bridging
    }

    /// Members that cannot reach each other (leaders behind NAT) in direct exchange: this
    /// node reads the ones it cannot reach through bridges, and bridges for the ones that
    /// cannot reach every member.
    public struct Bridging: Codable, Hashable, Sendable {
        /// Members named to this node that did not answer its introduction.
        public var unreachableMembers: Int
        /// Members that cannot reach every member and lease here.
        public var bridgedMembers: Int
        /// Their records forwarded to other members so far (one per member sent to).
        public var forwardedRecords: Int

        public init(unreachableMembers: Int, bridgedMembers: Int, forwardedRecords: Int) {
            self.unreachableMembers = unreachableMembers
            self.bridgedMembers = bridgedMembers
            self.forwardedRecords = forwardedRecords
        }

        enum CodingKeys: String, CodingKey {
            case unreachableMembers = "unreachable_members"
            case bridgedMembers = "bridged_members"
            case forwardedRecords = "forwarded_records"
        }
    }

    /// A routing-table entry.
    public struct Contact: Codable, Hashable, Sendable {
        public var id: String
        public var endpoint: String
        /// The k-bucket it is in (0 = farthest half of the id space).
        public var bucket: Int
        /// Seconds since it was last heard from.
        public var lastSeenSecondsAgo: Double
        /// Requests it failed to answer in a row.
        public var failures: Int

        public init(id: String, endpoint: String, bucket: Int, lastSeenSecondsAgo: Double, failures: Int) {
            self.id = id
            self.endpoint = endpoint
            self.bucket = bucket
            self.lastSeenSecondsAgo = lastSeenSecondsAgo
            self.failures = failures
        }

        enum CodingKeys: String, CodingKey {
            case id
            case endpoint
            case bucket
            case lastSeenSecondsAgo = "last_seen_seconds_ago"
            case failures
        }
    }

    /// A value this node holds (as one of the k closest to its key).
    public struct StoredValue: Codable, Hashable, Sendable {
        /// The record key (64 hex digits).
        public var key: String
        public var owner: String
        public var valueID: String
        public var sequence: UInt64
        public var bytes: Int
        public var tombstone: Bool
        public var expiresInSeconds: Double

        public init(key: String, owner: String, valueID: String, sequence: UInt64, bytes: Int, tombstone: Bool,
                    expiresInSeconds: Double) {
            self.key = key
            self.owner = owner
            self.valueID = valueID
            self.sequence = sequence
            self.bytes = bytes
            self.tombstone = tombstone
            self.expiresInSeconds = expiresInSeconds
        }

        enum CodingKeys: String, CodingKey {
            case key
            case owner
            case valueID = "value_id"
            case sequence
            case bytes
            case tombstone
            case expiresInSeconds = "expires_in_seconds"
        }
    }

    /// A lookup in progress.
    public struct Lookup: Codable, Hashable, Sendable {
        public var target: String
        /// `join`, `rejoin`, `lookup`, `put`, `republish`, `get`, `subscribe`, `refresh_bucket`, `neighbourhood`.
        public var purpose: String
        public var queries: Int
        public var inFlight: Int
        public var candidates: Int

        public init(target: String, purpose: String, queries: Int, inFlight: Int, candidates: Int) {
            self.target = target
            self.purpose = purpose
            self.queries = queries
            self.inFlight = inFlight
            self.candidates = candidates
        }

        enum CodingKeys: String, CodingKey {
            case target
            case purpose
            case queries
            case inFlight = "in_flight"
            case candidates
        }
    }

    enum CodingKeys: String, CodingKey {
        case engine
        case available
        case nodeID = "node_id"
        case stage
        case overlayID = "overlay_id"
        case routingTable = "routing_table"
        case storedValues = "stored_values"
        case activeLookups = "active_lookups"
        case subscriptions
        case rttMilliseconds = "rtt_ms"
        case bridging
    }
}
