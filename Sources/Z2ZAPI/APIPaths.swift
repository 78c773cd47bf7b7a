/// The routes of the local HTTP API, version 1. The server (`API`) and the client (`z2z`)
/// both spell paths from here. Within v1, fields are only added, never renamed or removed;
/// a change that breaks clients gets `/api/v2`.
public enum APIPaths {
    public static let prefix = "/api/v1"
    public static let status = prefix + "/status"
    public static let islands = prefix + "/islands"
    public static let peers = prefix + "/peers"
    /// Query: `origin=local|imported`, `type=_ipp._tcp`.
    public static let services = prefix + "/services"
    /// Query: `type=_ipp._tcp&island=<id or name>`.
    public static let policyTest = prefix + "/policy/test"
    /// The SIP user agents the gateway redirects to.
    public static let sip = prefix + "/sip"
    /// GET: checks the daemon's configuration as a reload would; POST: checks the TOML text in the body.
    public static let configCheck = prefix + "/config/check"
    /// The DHT node: routing table, stored values, active lookups.
    public static let dht = prefix + "/dht"
    /// Query: `after=<sequence>`. Recent events, oldest first.
    public static let events = prefix + "/events"
    /// Server-sent events: each new event as one `data:` line of `GatewayEvent` JSON.
    public static let eventStream = prefix + "/events/stream"
    /// Query: `service=<instance or type>`.
    public static let explain = prefix + "/explain"
    /// Prometheus text exposition (not versioned: scrapers expect this path).
    public static let metrics = "/metrics"
    /// The dashboard (HTML).
    public static let dashboard = "/"
}
