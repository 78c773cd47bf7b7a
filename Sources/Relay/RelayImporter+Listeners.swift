import NIOCore
import NIOPosix
import Primitives
import Transport

extension RelayImporter {
    /// Starts relaying `service`, exported by the island whose leader is `leader`: binds
    /// one port, the same on every address in `addresses` (TCP or UDP, as the service's
    /// transport says), and returns it. The gateway publishes the import with these
    /// addresses and this port. `port` 0 allocates one; a service relayed over both
    /// transports passes the port its first listener got, so one SRV port serves both.
    public func listen(for service: ServiceRef, via leader: RelayLeader, on addresses: [Endpoint.Address],
                       port requested: UInt16 = 0) async throws -> UInt16 {
        precondition(!addresses.isEmpty, "a listener needs an address")
        var lastError: Error = RelayRefusal.tunnelUnavailable
        // Port 0 on the first address picks a port; another address may have it taken.
        for _ in 0..<(requested == 0 ? 8 : 1) {
            var sockets: [Channel] = []
            do {
                var port = requested
                for address in addresses {
                    let socket = try await bind(Endpoint(address: address, port: port), service: service, leader: leader)
                    sockets.append(socket)
                    if port == 0 { port = UInt16(socket.localAddress?.port ?? 0) }
                }
                let registered = state.withLock { s in
                    guard !s.stopped, s.listeners[service] == nil else { return false }
                    s.listeners[service] = Listener(leader: leader, sockets: sockets)
                    return true
                }
                guard registered else {
                    for socket in sockets { try? await socket.close() }
                    throw RelayRefusal.tunnelUnavailable
                }
                return port
            } catch {
                lastError = error
                for socket in sockets { try? await socket.close() }
                if error as? RelayRefusal != nil { break }
            }
        }
        throw lastError
    }

    /// Stops relaying `service`: closes its listener and every connection and flow it has
    /// open; they count as ended by revocation.
    public func stopListening(_ service: ServiceRef) async {
        let channels = state.withLock { s -> [Channel] in
            let sockets = s.listeners.removeValue(forKey: service)?.sockets ?? []
            let streams = s.book.close(as: .revoked) { $0 == service }.compactMap { s.streams.removeValue(forKey: $0)?.channel }
            return sockets + streams
        }
        for channel in channels { try? await channel.close() }
    }

    /// The port a service is relayed on, if it is.
    public func port(of service: ServiceRef) -> UInt16? {
        state.withLock { s in s.listeners[service]?.sockets.first?.localAddress?.port.map { UInt16($0) } }
    }

    private func bind(_ endpoint: Endpoint, service: ServiceRef, leader: RelayLeader) async throws -> Channel {
        let address = try endpoint.socketAddress()
        switch service.transport {
        case .tcp:
            // A burst of as many connections as the listener admits must fit the accept
            // queue (NIO's default is 128): past it the kernel answers with SYN cookies and
            // drops the handshake's last ACK, and a client waiting for the service to speak
            // first waits on a connection the gateway never saw.
            return try await ServerBootstrap(group: settings.group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: Int32(clamping: limits.connectionsPerListener))
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.autoRead, value: false)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { [self] client in
                    client.eventLoop.makeCompletedFuture {
                        try client.pipeline.syncOperations.addHandler(InboundHold())
                        accepted(client, service: service, leader: leader)
                    }
                }
                .bind(to: address).get()
        case .udp:
            return try await DatagramBootstrap(group: settings.group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelInitializer { [self] socket in
                    socket.eventLoop.makeCompletedFuture {
                        try socket.pipeline.syncOperations.addHandler(
                            UDPFlowDispatcher(importer: self, service: service, leader: leader, socket: socket))
                    }
                }
                .bind(to: address).get()
        }
    }

    /// One TCP connection to a listener: a stream to the exporting leader, spliced to the
    /// client once accepted (the client's bytes wait in its socket, or in `InboundHold`,
    /// until then).
    private func accepted(_ client: Channel, service: ServiceRef, leader: RelayLeader) {
        let meter = StreamMeter()
        guard let id = beginStream(service, leader: leader, meter: meter) else { return client.close(promise: nil) }
        track(id, closing: client)
        let idle = TimeAmount(limits.idleTimeout)
        openStream(to: leader, for: service) { stream, answered in
            try stream.pipeline.syncOperations.addHandlers([
                SSHDataCodec(), ReplyReader(answered: answered),
                IdleStateHandler(allTimeout: idle), IdleCloser(meter: meter),
                SpliceHandler(partner: client, meter: meter, direction: .fromService),
            ])
            answered.futureResult.whenSuccess { reply in
                guard reply == .accepted else { return }
                client.eventLoop.execute {
                    do {
                        try client.pipeline.syncOperations.addHandler(SpliceHandler(partner: stream, meter: meter, direction: .toService))
                        client.pipeline.fireUserInboundEventTriggered(InboundHold.Release())
                    } catch {
                        client.close(promise: nil)
                    }
                }
            }
        }
        .whenSuccess { [self] reply in
            guard case .refused(let reason) = reply else { return }
            refused(id, reason)
            client.close(promise: nil)
        }
    }
}
