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
}
