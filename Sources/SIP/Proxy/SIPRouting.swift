/// How the gateway's SIP service routes, beyond redirecting: its identity as a SIP node, the
/// island's link, whether it proxies or redirects AoRs, and the registrar.
public struct SIPRouting: Hashable, Sendable {
    /// What an INVITE (or OPTIONS, MESSAGE) to a known AoR gets.
    public enum Mode: String, Hashable, Sendable, CaseIterable {
        /// `302` with the contacts; the caller (or its outbound proxy, this gateway) follows it.
        case redirect
        /// Forwarded to the first contact (RFC 3261 §16.11 stateless proxy).
        case proxy
    }

    public var mode: Mode
    public var identity: SIPNodeIdentity
    /// The island's link: sources that may register and use the gateway as outbound proxy
    /// for any destination (others only reach contacts the gateway handed out or registered).
    public var localNetworks: [SIPSubnet]
    /// Nil: REGISTER gets `405` as before.
    public var registrar: Registrar.Configuration?
    /// How long a contact handed out in a `302` stays forwardable.
    public var contactMemory: Duration
    /// Live contacts (OPTIONS probes); nil: contacts are handed out unchecked.
    public var probing: ContactProber.Configuration?

    public init(
        mode: Mode = .redirect, identity: SIPNodeIdentity, localNetworks: [SIPSubnet] = [],
        registrar: Registrar.Configuration? = nil, contactMemory: Duration = .seconds(3_600),
        probing: ContactProber.Configuration? = nil
    ) {
        self.mode = mode
        self.identity = identity
        self.localNetworks = localNetworks
        self.registrar = registrar
        self.contactMemory = contactMemory
        self.probing = probing
    }
}
