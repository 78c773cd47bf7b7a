import Primitives
import Transport

/// The island side of the DHT's UDP socket: heartbeats go out through the peer's socket and
/// come in as the datagrams its splitter set aside (they start with the heartbeat magic).
/// One socket for both keeps a gateway to one port to open in a firewall.
public struct PeerDatagramLink: DatagramLink {
    public let peer: DHTPeer

    public init(peer: DHTPeer) { self.peer = peer }

    public func send(_ bytes: [UInt8], to endpoint: Endpoint) { peer.sendSide(bytes, to: endpoint) }

    public var heartbeats: AsyncStream<(bytes: [UInt8], from: Endpoint)> { peer.sideDatagrams }
}
