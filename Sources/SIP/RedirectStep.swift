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
}

/// What the service decided about one incoming message.
public enum RedirectStep: Hashable, Sendable {
    /// Send this response now. `rejection` names why, for a `400`/`505` to a malformed request.
    case respond(SIPResponse, rejection: SIPRejection?)
    /// Look the AoR up (in the DHT), then call `answer(_:contacts:)`.
    case lookup(RedirectQuery)
    /// Send nothing: an ACK (absorbed, `rejection == nil`) or a message too broken to answer.
    case drop(rejection: SIPRejection?)
}
