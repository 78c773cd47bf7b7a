import DNSSD

/// What the leaders' relay has carried, as plain totals since it started, for
/// `GatewayMetrics.relay(_:)`. The daemon fills one from its relay's reports (the exporting
/// side's and the importing side's); plain values keep the reports free of the relay module.
public struct RelayMetricsSnapshot: Hashable, Sendable {
    /// The exporting side: streams other islands' leaders opened to this island's services.
    public var exporting: Side
    /// The importing side: streams this island's clients opened to other islands' services.
    public var importing: Side

    public init(exporting: Side = Side(), importing: Side = Side()) {
        self.exporting = exporting
        self.importing = importing
    }

    /// A service's label: `"<instance> <type>"`, e.g. `Lab Printer _ipp._tcp`.
    public static func service(_ name: InstanceName, _ type: ServiceType) -> String { "\(name.value) \(type)" }

    /// One side of the relay. Every count is a total since the relay started.
    public struct Side: Hashable, Sendable {
        /// Per service, by its label (`RelayMetricsSnapshot.service(_:_:)`).
        public var services: [String: Traffic]
        /// Streams and flows refused, by reason (the relay's labels: `not_exported`, `tunnel_unavailable`, ...).
        public var refusals: [String: Int]
        /// Streams ended, by how (`closed`, `idle_timeout`, `revoked`).
        public var endings: [String: Int]

        public init(services: [String: Traffic] = [:], refusals: [String: Int] = [:], endings: [String: Int] = [:]) {
            self.services = services
            self.refusals = refusals
            self.endings = endings
        }

        /// Adds a service's traffic to what its label already has: one label may stand for
        /// several relay entries (its TCP and UDP, or the same name on two islands).
        public mutating func add(service: String, _ traffic: Traffic) {
            services[service, default: Traffic()] += traffic
        }
    }

    /// One service's relayed traffic. "To the service" is from the importing island's client
    /// to the exporting island's service.
    public struct Traffic: Hashable, Sendable {
        /// Streams accepted.
        public var streams: Int
        /// Streams open now (a gauge, not a total).
        public var open: Int
        public var bytesToService: UInt64
        public var bytesFromService: UInt64

        public init(streams: Int = 0, open: Int = 0, bytesToService: UInt64 = 0, bytesFromService: UInt64 = 0) {
            self.streams = streams
            self.open = open
            self.bytesToService = bytesToService
            self.bytesFromService = bytesFromService
        }

        static func += (total: inout Traffic, more: Traffic) {
            total.streams += more.streams
            total.open += more.open
            total.bytesToService += more.bytesToService
            total.bytesFromService += more.bytesFromService
        }
    }
}
