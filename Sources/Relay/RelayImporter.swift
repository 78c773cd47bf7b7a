import Kademlia
import Logging
import NIOCore
import NIOPosix
import Primitives
import Synchronization

/// The importing leader's side of the relay: for each relayed service a listener on a port
/// it allocates (`listen`), and one tunnel per exporting leader it dials on demand. Every
/// TCP connection and UDP flow a listener takes becomes one channel on that leader's
/// tunnel, spliced to the client once the exporting leader accepts it.
///
/// A tunnel that drops fails the streams it carried (their clients see a closed
/// connection) and is dialled again on the next stream request.
///
/// A leader that cannot be dialled (behind NAT) dials this leader's relay server instead
/// (a reverse tunnel, `RelayExporter.dialOut`); while that tunnel is up, in the
/// `TunnelDirectory` this importer shares with its exporter, streams to that leader go
/// over it, and otherwise the importer dials as usual.
public final class RelayImporter: Sendable {
    enum TunnelSlot {
        case dialing(EventLoopFuture<RelayTunnel>)
        case up(RelayTunnel)
    }

    struct Listener {
        var leader: RelayLeader
        var sockets: [Channel]
    }

    struct State {
        var book = StreamBook()
        var tunnels: [NodeID: TunnelSlot] = [:]
        var listeners: [ServiceRef: Listener] = [:]
        var streams: [StreamID: LiveStream] = [:]
        var stopped = false
    }

    public let settings: RelaySettings
    let directory: TunnelDirectory?
    let state = Mutex(State())
    var limits: RelayLimits { settings.limits }

    /// - Parameter directory: the reverse tunnels other leaders dialled in to this
    ///   leader's `RelayExporter` (the same directory), used before dialling.
    public init(_ settings: RelaySettings, directory: TunnelDirectory? = nil) {
        self.settings = settings
        self.directory = directory
    }

    /// Refusals (the exporting leaders' and this side's), endings and per-service traffic,
    /// open streams' bytes included.
    public var report: RelayReport {
        state.withLock { s in s.book.report.including(s.streams.values) }
    }

    /// Closes every listener, tunnel and stream; nothing opens afterwards.
    public func shutdown() async {
        let channels = state.withLock { s -> [Channel] in
            s.stopped = true
            var channels = s.listeners.values.flatMap(\.sockets) + s.streams.values.compactMap(\.channel)
            for slot in s.tunnels.values { if case .up(let tunnel) = slot { channels.append(tunnel.channel) } }
            s.listeners = [:]
            return channels
        }
        for channel in channels { try? await channel.close() }
        // A dial still under way ends by itself (its handshake timeout at the latest).
        let dialing = state.withLock { s in s.tunnels.values.compactMap { if case .dialing(let f) = $0 { f } else { nil } } }
        for dial in dialing { (try? await dial.get())?.channel.close(promise: nil) }
    }

    // MARK: streams

    /// Counts a new stream of `service` against its listener's limit; nil (and counted as
    /// refused) when the listener is full or gone.
    func beginStream(_ service: ServiceRef, leader: RelayLeader, meter: StreamMeter) -> StreamID? {
        state.withLock { s in
            guard !s.stopped, s.listeners[service] != nil else { return nil }
            guard s.book.count(service: service) < limits.connectionsPerListener else {
                s.book.refuse(.limitConnectionsService)
                return nil
            }
            let id = s.book.add(peer: leader.id, service: service)
            s.streams[id] = LiveStream(service: service, meter: meter)
            return id
        }
    }

    /// Ties a stream's end to `channel` closing; closes the channel at once when the stream
    /// was already closed by `stopListening`.
    func track(_ id: StreamID, closing channel: Channel) {
        let tracked = state.withLock { s in
            guard s.streams[id] != nil else { return false }
            s.streams[id]?.channel = channel
            return true
        }
        guard tracked else { return channel.close(promise: nil) }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { s in
                guard let live = s.streams.removeValue(forKey: id) else { return }
                s.book.ended(id, service: live.service, live.meter.ending, bytes: live.meter.counts)
            }
        }
    }

    /// The exporting leader (or the tunnel) refused the stream.
    func refused(_ id: StreamID, _ reason: RelayRefusal) {
        let service = state.withLock { s in
            defer { s.book.failed(id, reason) }
            return s.streams.removeValue(forKey: id)?.service
        }
        settings.logger.debug("relay stream refused", metadata: ["reason": "\(reason)", "service": "\(service.map { "\($0)" } ?? "?")"])
    }

    /// Opens a stream for `service` on the tunnel to `leader`, dialling it if needed; see
    /// `RelayTunnel.openStream`. Never fails: a tunnel that cannot be had answers with the
    /// dial's reason.
    func openStream(to leader: RelayLeader, for service: ServiceRef,
                    configure: @escaping @Sendable (Channel, EventLoopPromise<StreamReply>) throws -> Void) -> EventLoopFuture<StreamReply> {
        tunnel(to: leader)
            .flatMap { $0.openStream(for: service, configure: configure) }
            .flatMapErrorThrowing { error in .refused(error as? RelayRefusal ?? .tunnelUnavailable) }
    }

    // MARK: tunnels

    /// The tunnel to `leader`: the reverse one it dialled in, the one up, the one being
    /// dialled, or a new dial.
    private func tunnel(to leader: RelayLeader) -> EventLoopFuture<RelayTunnel> {
        if let reverse = directory?.tunnel(to: leader.id) {
            return reverse.channel.eventLoop.makeSucceededFuture(reverse)
        }
        enum Step { case use(EventLoopFuture<RelayTunnel>), dial(EventLoopPromise<RelayTunnel>) }
        let step = state.withLock { s -> Step in
            switch s.tunnels[leader.id] {
            case .up(let tunnel)? where tunnel.channel.isActive:
                return .use(tunnel.channel.eventLoop.makeSucceededFuture(tunnel))
            case .dialing(let dial)?:
                return .use(dial)
            default:
                let promise = settings.group.next().makePromise(of: RelayTunnel.self)
                if s.stopped {
                    promise.fail(RelayRefusal.tunnelUnavailable)
                } else {
                    s.tunnels[leader.id] = .dialing(promise.futureResult)
                }
                return .dial(promise)
            }
        }
        guard case .dial(let promise) = step else {
            if case .use(let future) = step { return future }
            fatalError("unreachable")
        }
        RelayTunnel.dial(leader, settings: settings, on: promise.futureResult.eventLoop)
            .whenComplete { [self] result in
                let stopped = state.withLock { s in
                    switch result {
                    case .success(let tunnel) where !s.stopped: s.tunnels[leader.id] = .up(tunnel)
                    default: s.tunnels[leader.id] = nil
                    }
                    return s.stopped
                }
                switch result {
                case .success(let tunnel):
                    settings.logger.info("relay tunnel up", metadata: ["leader": "\(leader)"])
                    if stopped { tunnel.channel.close(promise: nil) }
                    tunnel.channel.closeFuture.whenComplete { [self] _ in forget(tunnel) }
                case .failure(let error):
                    settings.logger.info("relay tunnel failed", metadata: ["leader": "\(leader)", "reason": "\(error)"])
                }
                promise.completeWith(result)
            }
        return promise.futureResult
    }

    /// A closed tunnel leaves its slot, so the next stream dials again.
    private func forget(_ tunnel: RelayTunnel) {
        state.withLock { s in
            if case .up(let current)? = s.tunnels[tunnel.leader], current === tunnel { s.tunnels[tunnel.leader] = nil }
        }
        settings.logger.info("relay tunnel down", metadata: ["leader": "\(tunnel.leader)"])
    }
}
