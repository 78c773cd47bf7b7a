import NIOCore
import Primitives

/// Circuits: this leader as the middle of a stream between two leaders that cannot reach
/// each other (one behind NAT, the other unable to take its reverse tunnel), as libp2p's
/// circuit relay v2. The requesting leader asks this one for a service of a third leader's
/// island, over its usual tunnel; the `Circuit` policy routes it to that leader, which has
/// a reverse tunnel to this one (`TunnelDirectory`); this leader opens a stream for the same
/// `ServiceRef` over it, as its importer would, passes the answer back unchanged, and on
/// acceptance splices the two SSH channels. TCP bytes and framed UDP datagrams are both
/// bytes on a channel, so one splice serves both transports.
///
/// Deviations from relay v2: no reservation, hop or stop protocol: the target leader's
/// reverse tunnel is the reservation, and the `ServiceRef` names the destination. The
/// target sees this leader as the requester, never the one behind it: its policy is about
/// this leader's island; this leader's policy (the circuit closure), limits, counts and
/// revocation apply to the requester.
extension RelayExporter {
    /// Serves a stream request the circuit policy routed: refused (the policy's reason, a
    /// limit, revocation, no tunnel to the target within a third of the answer timeout, or
    /// the target's own answer) or spliced to the target's stream. Runs on the child's event
    /// loop, before the channel is confirmed.
    func forward(_ child: Channel, service: ServiceRef, requester: NodeID,
                 route: Result<NodeID, RelayRefusal>) -> EventLoopFuture<Void> {
        let wait = TimeAmount.nanoseconds(TimeAmount(limits.answerTimeout).nanoseconds / 3)
        let tunnel: EventLoopFuture<Result<RelayTunnel, RelayRefusal>> = switch route {
        case .failure(let reason): child.eventLoop.makeSucceededFuture(.failure(reason))
        case .success(let leader):
            directory?.tunnel(to: leader, within: wait, on: child.eventLoop).map { $0.map { .success($0) } ?? .failure(.tunnelUnavailable) }
                ?? child.eventLoop.makeSucceededFuture(.failure(.tunnelUnavailable))
        }
        return tunnel.flatMap { [self] hop in forward(child, service: service, requester: requester, through: hop) }
    }

    private func forward(_ child: Channel, service: ServiceRef, requester: NodeID,
                         through hop: Result<RelayTunnel, RelayRefusal>) -> EventLoopFuture<Void> {
        let admission = state.withLock { $0.gate.admitCircuit(requester: requester, service: service, route: hop.map(\.leader)) }
        let id: StreamID, tunnel: RelayTunnel
        switch (admission, hop) {
        case (.success(let admitted), .success(let up)):
            (id, tunnel) = (admitted, up)
        case (.failure(let reason), _), (.success, .failure(let reason)):
            settings.logger.debug("relay stream refused", metadata: ["reason": "\(reason)", "peer": "\(requester)", "service": "\(service)", "circuit": "true"])
            return answer(child, .refused(reason))
        }
        let meter = StreamMeter()
        state.withLock { $0.streams[id] = LiveStream(service: service, meter: meter) }
        let opened = child.eventLoop.makePromise(of: Channel.self)
        // Half the answer timeout: the requester, waiting as long as the tunnel's answer
        // timeout, must hear a silent target's refusal before it takes its own tunnel to this
        // leader (and every other stream on it) for dead.
        return tunnel.openStream(for: service, within: .nanoseconds(TimeAmount(limits.answerTimeout).nanoseconds / 2)) { upstream, answered in
            // The target's bytes wait in `InboundHold` until the requester has the reply.
            try upstream.pipeline.syncOperations.addHandlers([
                SSHDataCodec(), ReplyReader(answered: answered), InboundHold(),
                SpliceHandler(partner: child, meter: meter, direction: .fromService),
            ])
            opened.succeed(upstream)
        }
        .hop(to: child.eventLoop)
        .flatMap { [self] reply -> EventLoopFuture<Void> in
            guard case .refused(let reason) = reply else {
                return opened.futureResult.flatMap { [self] upstream in
                    attachCircuit(id, service: service, meter: meter, child: child, upstream: upstream)
                }
            }
            // The target's reader, if it ever ran, already closed its channel.
            opened.fail(reason)
            state.withLock { s in
                s.streams[id] = nil
                s.gate.book.failed(id, reason)
            }
            settings.logger.debug("relay stream refused", metadata: ["reason": "\(reason)", "service": "\(service)", "circuit": "true"])
            return answer(child, .refused(reason))
        }
    }

    /// Sets up the requester's channel of an accepted circuit around the target's channel,
    /// unless the stream was revoked while the target answered.
    private func attachCircuit(_ id: StreamID, service: ServiceRef, meter: StreamMeter,
                               child: Channel, upstream: Channel) -> EventLoopFuture<Void> {
        guard adopt(id, service: service, meter: meter, child: child) else {
            upstream.close(promise: nil)
            return answer(child, .refused(.revoked))
        }
        // From here the splice closes each side when the other closes.
        return child.eventLoop.makeCompletedFuture {
            try child.pipeline.syncOperations.addHandlers([
                SSHDataCodec(), ReplyWriter(.accepted, service: upstream),
                IdleStateHandler(allTimeout: TimeAmount(service.transport == .tcp ? limits.idleTimeout : limits.flowIdleTimeout)),
                IdleCloser(meter: meter),
                SpliceHandler(partner: upstream, meter: meter, direction: .toService),
            ])
        }
        .flatMapErrorThrowing { error in
            upstream.close(promise: nil)
            throw error
        }
    }
}
