/// Where a request came from: the address responses go back to (RFC 3581 symmetric response).
public struct SIPSource: Hashable, Sendable {
    public enum Transport: String, Hashable, Sendable { case udp, tcp }

    public var host: SIPHost
    public var port: UInt16
    public var transport: Transport

    public init(host: SIPHost, port: UInt16, transport: Transport) {
        self.host = host
        self.port = port
        self.transport = transport
    }
}

/// A redirect that waits for the AoR lookup; hand it back to `RedirectService.answer`.
public struct RedirectQuery: Hashable, Sendable {
    public let addressOfRecord: SIPAddressOfRecord
    public let request: SIPRequest
    public let source: SIPSource
    /// The Request-URI was `sips:`: only `sips:` contacts may be handed out (RFC 3261 §8.1.3.4).
    public let requiresSecureContacts: Bool
    /// A phone of this island routed it here (top Route named the gateway): an AoR without
    /// contacts is forwarded to the Request-URI instead of answered with 404.
    public var routed: Bool = false
    /// The Request-URI named the gateway (`sip:alice@<gateway>`): look the user part up.
    public var byUser: Bool = false
}

/// What the service decided about one incoming message.
public enum RedirectStep: Hashable, Sendable {
    /// Send this response now. `rejection` names why, for a `400`/`505` to a malformed request.
    case respond(SIPResponse, rejection: SIPRejection?)
    /// Look the AoR up (in the DHT), then call `answer(_:contacts:)`.
    case lookup(RedirectQuery)
    /// Send nothing: an ACK (absorbed, `rejection == nil`) or a message too broken to answer.
    case drop(rejection: SIPRejection?)
    /// Send this forwarded request or relayed response to its next hop (proxy role).
    case forward(SIPOutbound)
    /// Send this response to a REGISTER; announce or withdraw the changed bindings.
    /// `refusal` names why a REGISTER was refused (metric label).
    case registered(SIPResponse, changes: [RegistrarChange], refusal: String?)
    /// A response to a request the gateway sent itself (a contact probe).
    case probeAnswer(branch: String, statusCode: Int)
}
