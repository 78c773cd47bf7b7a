import NIOCore
import NIOSSH

/// Which end of a tunnel opens the channels of its relayed streams, and so which SSH
/// channel type carries the `ServiceRef` (RFC 4254 §7.2): the importing leader opens them,
/// whichever leader dialled.
///
/// - `client`: the importing leader dialled the exporting one (`RelayTunnel.dial`) and
///   opens `direct-tcpip` channels, the ServiceRef in the target host.
/// - `server`: the exporting leader dialled out to the importing one (a reverse tunnel,
///   `RelayExporter.dialOut`, for a leader that cannot be dialled), and the importing
///   leader's server opens `forwarded-tcpip` channels, the ServiceRef in the listening
///   host. SSH has the server open these after the client asked for them with a
///   `tcpip-forward` request (`ReverseTunnelRequests`); the port is sent as 0.
///
/// Each side accepts only the type its peer should open; any other is a `protocolError`.
enum StreamOpener: Sendable {
    case client
    case server

    /// The channel type that asks for the service whose encoded reference is `host`.
    func channelType(for host: String) -> SSHChannelType {
        switch self {
        case .client:
            .directTCPIP(.init(targetHost: host, targetPort: 0, originatorAddress: Self.unspecified))
        case .server:
            .forwardedTCPIP(.init(listeningHost: host, listeningPort: 0, originatorAddress: Self.unspecified))
        }
    }

    /// The encoded reference a channel of this opener's type carries; nil for any other
    /// type (a `session`, or the other direction's type).
    func target(of type: SSHChannelType) -> String? {
        switch (self, type) {
        case (.client, .directTCPIP(let request)): request.targetHost
        case (.server, .forwardedTCPIP(let request)): request.listeningHost
        default: nil
        }
    }

    /// No address stands behind a relayed stream's channel: the service is named instead.
    /// (A constant literal: parsing it cannot fail.)
    private static let unspecified = try! SocketAddress(ipAddress: "0.0.0.0", port: 0)
}
