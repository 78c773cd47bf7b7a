import Primitives
import Synchronization

/// The reverse tunnels other leaders dialled in to this leader's relay server, by the
/// dialling leader's node id: how this leader's importer reaches a leader that cannot be
/// dialled (behind NAT). `RelayExporter`'s server registers a connection once its
/// authenticated client asked for reverse streams (`ReverseTunnelRequests`) and removes it
/// when it closes; `RelayImporter` looks here before it dials. Shared by both, owned by
/// neither: it holds tunnels, not the relay that made them.
///
/// One reverse tunnel per leader: a leader that dials in again (its old connection died
/// without this side noticing) replaces the old one, which is closed.
public final class TunnelDirectory: Sendable {
    private let tunnels = Mutex<[NodeID: RelayTunnel]>([:])

    public init() {}

    /// The leaders whose reverse tunnels are up now.
    public var leaders: Set<NodeID> {
        tunnels.withLock { Set($0.filter { $0.value.channel.isActive }.keys) }
    }

    /// The reverse tunnel `leader` dialled in, if it is up.
    func tunnel(to leader: NodeID) -> RelayTunnel? {
        tunnels.withLock { $0[leader] }.flatMap { $0.channel.isActive ? $0 : nil }
    }

    /// Registers `tunnel` until its connection closes.
    func register(_ tunnel: RelayTunnel) {
        let replaced = tunnels.withLock { $0.updateValue(tunnel, forKey: tunnel.leader) }
        if let replaced, replaced !== tunnel { replaced.channel.close(promise: nil) }
        tunnel.channel.closeFuture.whenComplete { [self] _ in
            tunnels.withLock { t in
                if t[tunnel.leader] === tunnel { t[tunnel.leader] = nil }
            }
        }
    }
}
