import NIOCore
import Primitives

extension RelayExporter {
    /// Dials `leader`'s relay server as a client, as an importing leader would (its host key
    /// must be `leader`'s identity; this leader proves its own and the network key), and
    /// asks it to open streams back over the connection: a reverse tunnel, for an
    /// exporting leader that cannot be dialled. Streams arriving over it are served like
    /// those of this leader's own server: the same authorizer, limits, counts and
    /// revocation, with `leader` as the requester.
    ///
    /// Returns the tunnel once `leader` took it; returns the one already up, if any. Fails
    /// with `wrongHostKey` or `tunnelUnavailable` (refused, unreachable, timed out, or the
    /// server takes no reverse tunnels). Dialling again once it closes is the caller's.
    @discardableResult
    public func dialOut(to leader: RelayLeader) async throws -> ReverseTunnel {
        if let up = state.withLock({ $0.reverse[leader.id] }), up.isUp { return up }
        let requester = leader.id
        let tunnel = try await RelayTunnel.dial(leader, settings: settings, on: settings.group.next()) { [self] child, type in
            openStream(child, type: type, requester: requester, openedBy: .server)
        }.get()
        let reverse = ReverseTunnel(leader: leader.id, channel: tunnel.channel)
        let key = ObjectIdentifier(tunnel.channel)
        let stopped = state.withLock { s in
            if !s.stopped {
                s.tunnels[key] = tunnel.channel
                s.reverse[leader.id] = reverse
            }
            return s.stopped
        }
        if stopped {
            await reverse.close()
            throw RelayRefusal.tunnelUnavailable
        }
        settings.logger.info("relay reverse tunnel up", metadata: ["leader": "\(leader)"])
        tunnel.channel.closeFuture.whenComplete { [self] _ in
            state.withLock { s in
                s.tunnels[key] = nil
                if s.reverse[requester]?.channel === tunnel.channel { s.reverse[requester] = nil }
            }
            settings.logger.info("relay reverse tunnel down", metadata: ["leader": "\(leader)"])
        }
        return reverse
    }
}
