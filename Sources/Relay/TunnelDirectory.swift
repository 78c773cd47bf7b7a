import NIOCore
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
    private struct State {
        var tunnels: [NodeID: RelayTunnel] = [:]
        /// Streams waiting for a leader's tunnel (`tunnel(to:within:on:)`), by waiter id.
        var waiters: [NodeID: [UInt64: EventLoopPromise<RelayTunnel?>]] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// The leaders whose reverse tunnels are up now.
    public var leaders: Set<NodeID> {
        state.withLock { Set($0.tunnels.filter { $0.value.channel.isActive }.keys) }
    }

    /// The reverse tunnel `leader` dialled in, if it is up.
    func tunnel(to leader: NodeID) -> RelayTunnel? {
        state.withLock { $0.tunnels[leader] }.flatMap { $0.channel.isActive ? $0 : nil }
    }

    /// The reverse tunnel `leader` dialled in, or the one it dials in within `wait`; nil
    /// when none comes. A circuit stream can arrive while the target's tunnel is still being
    /// set up (the two leaders were asked to dial at the same moment): it waits for the
    /// tunnel instead of failing a connection its client already made.
    func tunnel(to leader: NodeID, within wait: TimeAmount, on eventLoop: any EventLoop) -> EventLoopFuture<RelayTunnel?> {
        let promise = eventLoop.makePromise(of: RelayTunnel?.self)
        let waiter = state.withLock { s -> UInt64? in
            if let up = s.tunnels[leader], up.channel.isActive { return nil }
            s.nextWaiter += 1
            s.waiters[leader, default: [:]][s.nextWaiter] = promise
            return s.nextWaiter
        }
        guard let waiter else {
            promise.succeed(tunnel(to: leader))
            return promise.futureResult
        }
        eventLoop.scheduleTask(in: wait) { [self] in
            let expired = state.withLock { s in
                defer { if s.waiters[leader]?.isEmpty == true { s.waiters[leader] = nil } }
                return s.waiters[leader]?.removeValue(forKey: waiter)
            }
            expired?.succeed(nil)
        }
        return promise.futureResult
    }

    /// Registers `tunnel` until its connection closes; streams waiting for it go on.
    func register(_ tunnel: RelayTunnel) {
        let (replaced, waiting) = state.withLock { s in
            (s.tunnels.updateValue(tunnel, forKey: tunnel.leader), s.waiters.removeValue(forKey: tunnel.leader) ?? [:])
        }
        if let replaced, replaced !== tunnel { replaced.channel.close(promise: nil) }
        tunnel.channel.closeFuture.whenComplete { [self] _ in
            state.withLock { s in
                if s.tunnels[tunnel.leader] === tunnel { s.tunnels[tunnel.leader] = nil }
            }
        }
        for (_, promise) in waiting.sorted(by: { $0.key < $1.key }) { promise.succeed(tunnel) }
    }
}
