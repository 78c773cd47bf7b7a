import NIOCore
import NIOSSH
import Primitives

/// A tunnel an exporting leader dialled out to another leader (`RelayExporter.dialOut`),
/// because that leader cannot dial it (it sits behind a masquerading NAT): the other
/// leader's importer opens its streams back over this connection, and the exporter serves
/// them as it serves its own server's. The handle says whether it is still up; keeping it
/// up (dialling again once it closes) is the caller's.
public struct ReverseTunnel: Sendable {
    /// The leader dialled.
    public let leader: NodeID
    let channel: Channel

    public var isUp: Bool { channel.isActive }

    /// Returns once the tunnel has closed (dropped, shut down, or closed here).
    public func closed() async {
        try? await channel.closeFuture.get()
    }

    /// Closes the tunnel and every stream it carries.
    public func close() async {
        try? await channel.close()
    }
}

/// Server side of a reverse tunnel: the `tcpip-forward` global request (RFC 4254 §7.1) by
/// which an authenticated client asks this server to open its streams towards it. Only the
/// relay's own request is granted (`host`, port 0) and only when the server has a
/// `TunnelDirectory`; the connection is then registered there for the importer. Anything
/// else, an `ssh -R` asking for a listening port included, is refused: the relay listens
/// on no port for anyone.
final class ReverseTunnelRequests: GlobalRequestDelegate {
    /// The address of the relay's `tcpip-forward` request.
    static let host = "z2z-relay-reverse-1"

    private let peer: RelayExporter.Peer
    private let channel: Channel
    private let directory: TunnelDirectory?
    private let answerTimeout: TimeAmount
    private let refused: (RelayRefusal) -> Void

    /// - Parameter answerTimeout: how long the importer waits for the dialling leader's
    ///   answer to a stream over this tunnel before taking it for dead.
    init(peer: RelayExporter.Peer, channel: Channel, directory: TunnelDirectory?, answerTimeout: TimeAmount,
         refused: @escaping (RelayRefusal) -> Void) {
        self.peer = peer
        self.channel = channel
        self.directory = directory
        self.answerTimeout = answerTimeout
        self.refused = refused
    }

    func tcpForwardingRequest(_ request: GlobalRequest.TCPForwardingRequest, handler: NIOSSHHandler,
                              promise: EventLoopPromise<GlobalRequest.TCPForwardingResponse>) {
        guard let directory, let leader = peer.id, request == .listen(host: Self.host, port: 0) else {
            refused(.protocolError)
            return promise.fail(RelayRefusal.protocolError)
        }
        directory.register(RelayTunnel(leader: leader, channel: channel, ssh: NIOLoopBound(handler, eventLoop: channel.eventLoop),
                                       opener: .server, answerTimeout: answerTimeout))
        promise.succeed(GlobalRequest.TCPForwardingResponse(boundPort: nil))
    }
}
