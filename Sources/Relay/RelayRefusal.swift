/// Why a relayed connection or flow did not get through, on either side of the tunnel.
///
/// `code` is the byte an exporting leader sends back in its `StreamReply`, and `reason` is
/// the metric label and log word: the same name everywhere. Codes are stable; a reader
/// meeting a code it does not know takes it as `protocolError`.
///
/// Who decides: codes 1–7 are the exporting leader's answers to one stream request (the
/// importing side learns them from the reply); 8–9 its refusals of a whole tunnel while
/// authenticating the client, of which the client sees only a failed dial (SSH says no
/// more than "authentication failed"); 10–12 the importing leader's own.
public enum RelayRefusal: Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The service exists but is not exported to the requesting island (policy).
    case notExported
    /// The exporting leader knows no such service (withdrawn, never seen, another island's).
    case unknownService
    /// The service was revoked on the exporting side (`RelayExporter.revoke`).
    case revoked
    /// The requesting leader already holds `RelayLimits.connectionsPerPeer` streams.
    case limitConnectionsPeer
    /// The service already carries `RelayLimits.connectionsPerService` streams (exporting
    /// side), or the importing listener its `RelayLimits.connectionsPerListener`.
    case limitConnectionsService
    /// No LAN address of the service accepted the connection (or the authorizer gave none).
    case unreachable
    /// The request did not decode as a `ServiceRef`.
    case malformedRequest
    /// The client did not authenticate as a gateway: no Ed25519 public key, a user name
    /// that is not a relay credential, another authentication method.
    case notAGateway
    /// The client's proof of the network key is wrong, or one side runs open (no network
    /// key) and the other does not.
    case badNetworkKey
    /// The server's host key is not the identity of the leader that was dialled.
    case wrongHostKey
    /// No tunnel to the exporting leader could be set up (connect, handshake or
    /// authentication failed or timed out), or it dropped before the stream was answered.
    case tunnelUnavailable
    /// The peer broke the relay protocol: an unknown reply code, a channel of another type.
    case protocolError

    /// The metric label and log word.
    public var reason: String {
        switch self {
        case .notExported: "not_exported"
        case .unknownService: "unknown_service"
        case .revoked: "revoked"
        case .limitConnectionsPeer: "limit_connections_peer"
        case .limitConnectionsService: "limit_connections_service"
        case .unreachable: "unreachable"
        case .malformedRequest: "malformed_request"
        case .notAGateway: "not_a_gateway"
        case .badNetworkKey: "bad_network_key"
        case .wrongHostKey: "wrong_host_key"
        case .tunnelUnavailable: "tunnel_unavailable"
        case .protocolError: "protocol_error"
        }
    }

    /// The wire code (in `StreamReply`).
    public var code: UInt8 {
        switch self {
        case .notExported: 1
        case .unknownService: 2
        case .revoked: 3
        case .limitConnectionsPeer: 4
        case .limitConnectionsService: 5
        case .unreachable: 6
        case .malformedRequest: 7
        case .notAGateway: 8
        case .badNetworkKey: 9
        case .wrongHostKey: 10
        case .tunnelUnavailable: 11
        case .protocolError: 12
        }
    }

    /// The refusal with this wire code, if there is one.
    public init?(code: UInt8) {
        guard let refusal = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = refusal
    }

    public var description: String { reason }
}
