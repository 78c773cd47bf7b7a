import Foundation

/// `GET /api/v1/events?after=N`: what happened to the gateway lately, oldest first — island
/// transitions, services seen and gone, exports and imports, and every rejection with its
/// reason. The daemon keeps the last `EventLog.capacity` events; `after` returns only newer
/// ones (what the dashboard's live log and `GET /api/v1/events/stream` use).
public struct EventsResponse: Codable, Hashable, Sendable {
    public var events: [GatewayEvent]
    /// The sequence number of the newest event (0 when none yet): the next `after`.
    public var last: UInt64

    public init(events: [GatewayEvent], last: UInt64) {
        self.events = events
        self.last = last
    }

    enum CodingKeys: String, CodingKey {
        case events
        case last
    }
}

/// One thing that happened, for a person and for a script.
public struct GatewayEvent: Codable, Hashable, Sendable {
    /// Increases by one per event, from 1.
    public var sequence: UInt64
    public var time: Date
    public var kind: Kind
    /// What it happened to: a service instance (`Printer._ipp._tcp`), a node id, a key.
    public var subject: String?
    /// The island the subject belongs to, when it is another island's (imports).
    public var island: IslandRef?
    /// The typed reason, as the metric label spells it (`denied_by_policy`, `bad_signature`, ...).
    public var reason: String?
    public var message: String

    public init(sequence: UInt64, time: Date, kind: Kind, subject: String? = nil, island: IslandRef? = nil,
                reason: String? = nil, message: String) {
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.subject = subject
        self.island = island
        self.reason = reason
        self.message = message
    }

    public struct Kind: WireEnum {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The island's election changed this gateway's role or leader.
        public static let transition: Kind = "transition"
        /// A service appeared on the link (or changed).
        public static let serviceSeen: Kind = "service_seen"
        /// A service left the link (goodbye or expiry).
        public static let serviceGone: Kind = "service_gone"
        /// A local service was put into the DHT.
        public static let exported: Kind = "exported"
        /// A local service was not exported; `reason` says why.
        public static let exportSkipped: Kind = "export_skipped"
        /// An exported service was removed from the DHT.
        public static let exportRemoved: Kind = "export_removed"
        /// Another island's service was published on this link.
        public static let imported: Kind = "imported"
        /// An import was withdrawn from this link.
        public static let importWithdrawn: Kind = "import_withdrawn"
        /// Another island's service is known and not imported; `reason` says why.
        public static let importHeld: Kind = "import_held"
        /// The island moved to another stage of its life; `reason` names it.
        public static let stage: Kind = "stage"
        /// An input was refused (a record, a heartbeat, a datagram); `reason` says why.
        public static let rejected: Kind = "rejected"
        /// An operation failed (a DHT put, an Avahi publication); `reason` says why.
        public static let failed: Kind = "failed"
        /// The connection to avahi-daemon changed.
        public static let avahi: Kind = "avahi"
    }

    enum CodingKeys: String, CodingKey {
        case sequence
        case time
        case kind
        case subject
        case island
        case reason
        case message
    }
}
