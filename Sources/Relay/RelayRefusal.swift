/// Why a relayed connection or flow did not get through, on either side of the tunnel.
///
/// The raw value is the wire code an exporting leader sends back in its `StreamReply`, and
/// `reason` is the metric label and log word: the same name everywhere. Codes are stable;
/// a reader meeting a code it does not know takes it as `protocolError`.
public enum RelayRefusal: UInt8, Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    // Decided by the exporting leader for one stream request (the importing side learns it
    // from the reply).

    /// The service exists but is not exported to the requesting island (policy).
    case notExported = 1
    /// The exporting leader knows no such service (withdrawn, never seen, another island's).
    case unknownService = 2
    /// The service was revoked on the exporting side (`RelayExporter.revoke`).
    case revoked = 3
    /// The requesting leader already holds `RelayLimits.connectionsPerPeer` streams.
    case limitConnectionsPeer = 4
    /// The service already carries `RelayLimits.connectionsPerService` streams (exporting
    /// side), or the importing listener its `RelayLimits.connectionsPerListener`.
    case limitConnectionsService = 5
    /// No LAN address of the service accepted the connection (or the authorizer gave none).
    case unreachable = 6
    /// The request did not decode as a `ServiceRef`.
    case malformedRequest = 7

    // Decided by the exporting leader for a whole tunnel, while authenticating its client.
    // The client sees only a failed dial: SSH says no more than "authentication failed".

    /// The client did not authenticate as a gateway: no Ed25519 public key, a user name
    /// that is not a relay credential, another authentication method.
    case notAGateway = 8
    /// The client's proof of the network key is wrong, or one side runs open (no network
    /// key) and the other does not.
    case badNetworkKey = 9

    // Decided by the importing leader.

    /// The server's host key is not the identity of the leader that was dialled.
    case wrongHostKey = 10
    /// No tunnel to the exporting leader could be set up (connect, handshake or
    /// authentication failed or timed out), or it dropped before the stream was answered.
    case tunnelUnavailable = 11
    /// The peer broke the relay protocol: an unknown reply code, a channel of another type.
    case protocolError = 12

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

    public var description: String { reason }
}
