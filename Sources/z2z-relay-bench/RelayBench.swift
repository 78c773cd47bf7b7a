import DNSSD
import Foundation
import Island
import Kademlia
import Logging
import NIOCore
import NIOPosix
import Primitives
import Relay

/// `z2z-relay-bench`: the relay's data path on loopback against a direct connection, in one
/// process: bulk TCP throughput (a server streams N MiB, the client counts them) and
/// connect-to-first-byte latency (a server that writes one byte on accept), each direct to
/// the server and through an importing listener, an SSH tunnel and an exporting leader
/// (both relay ends in this process, on the same event loops as server and client).
@main
struct RelayBench {
    struct Options {
        var mebibytes = 256
        var runs = 3
        var connects = 1_000
        var concurrent = 1_000
        var packetKiB = RelayLimits().channelPacketBytes / 1024

        static let usage = """
            usage: z2z-relay-bench [--mib N] [--runs N] [--connects N] [--concurrent N] [--packet-kib N]
              --mib         size of each bulk transfer in MiB (default 256)
              --runs        bulk transfers per path, alternating direct and relay (default 3)
              --connects    sequential connects per path for the latency figures (default 1000)
              --concurrent  relayed connections held open at once, each echoing once (default 1000)
              --packet-kib  SSH channel packet size in KiB; the window is 64 times it (default 32)
            """

        init(_ arguments: [String]) throws {
            var rest = arguments[...]
            while let flag = rest.popFirst() {
                guard let text = rest.popFirst(), let value = Int(text), value > 0 else {
                    throw Usage(message: "\(flag) needs a positive number\n\(Self.usage)")
                }
                switch flag {
                case "--mib": mebibytes = value
                case "--runs": runs = value
                case "--connects": connects = value
                case "--concurrent": concurrent = value
                case "--packet-kib": packetKiB = value
                default: throw Usage(message: "unknown option \(flag)\n\(Self.usage)")
                }
            }
        }
    }

    struct Usage: Error, CustomStringConvertible { var message: String; var description: String { message } }

    static func main() async throws {
        let options: Options
        do { options = try Options(Array(CommandLine.arguments.dropFirst())) } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(2)
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let bytes = options.mebibytes << 20
        let bulkServer = try await serve(group) { StreamSender(bytes: bytes) }
        let byteServer = try await serve(group) { StreamSender(bytes: 1) }
        let echoServer = try await serve(group) { Echo() }

        let network = NetworkID(name: "relay-bench")
        let key = NetworkKey(secret: Array("relay bench shared secret".utf8), network: network)
        let island = IslandID(rawValue: 1)
        let bulk = ServiceRef(island: island, type: try ServiceType("_bulk._tcp"), name: try InstanceName("Bulk"))
        let first = ServiceRef(island: island, type: try ServiceType("_byte._tcp"), name: try InstanceName("Byte"))
        let echo = ServiceRef(island: island, type: try ServiceType("_echo._tcp"), name: try InstanceName("Echo"))
        let exports = [bulk: endpoint(bulkServer), first: endpoint(byteServer), echo: endpoint(echoServer)]
        let exporterIdentity = Identity(), importerIdentity = Identity()
        var limits = RelayLimits()
        limits.channelPacketBytes = options.packetKiB * 1024
        limits.connectionsPerService = max(limits.connectionsPerService, options.concurrent)
        limits.connectionsPerListener = max(limits.connectionsPerListener, options.concurrent)
        limits.connectionsPerPeer = max(limits.connectionsPerPeer, options.concurrent)
        var logger = Logger(label: "z2z.relay.bench")
        logger.logLevel = .warning
        let exporter = RelayExporter(RelaySettings(identity: exporterIdentity, networkKey: key, limits: limits, logger: logger)) { _, service in
            exports[service].map { .success([$0]) } ?? .failure(.unknownService)
        }
        let relayEndpoint = try await exporter.start(on: Endpoint(ipv4: 127, 0, 0, 1, port: 0))
        let importer = RelayImporter(RelaySettings(identity: importerIdentity, networkKey: key, limits: limits, logger: logger))
        let leader = RelayLeader(id: exporterIdentity.id, endpoint: relayEndpoint)
        let loopback = Endpoint.Address.v4(0x7f00_0001)
        let relayedBulk = try await importer.listen(for: bulk, via: leader, on: [loopback])
        let relayedFirst = try await importer.listen(for: first, via: leader, on: [loopback])
        let relayedEcho = try await importer.listen(for: echo, via: leader, on: [loopback])
        let directBulk = endpoint(bulkServer).port, directFirst = endpoint(byteServer).port

        print("bulk: \(options.mebibytes) MiB per transfer, \(options.runs) runs per path, SSH packets of \(options.packetKiB) KiB")
        var rates: [String: [Double]] = [:]
        for run in 1...options.runs {
            for (path, port) in [("direct", directBulk), ("relay", relayedBulk)] {
                let (received, seconds) = try await receive(port: port, group: group)
                guard received == bytes else { throw Usage(message: "\(path): received \(received) of \(bytes) bytes") }
                let rate = Double(received) / seconds / 1_048_576
                rates[path, default: []].append(rate)
                print("  run \(run) \(path): \(String(format: "%.2f", seconds)) s, \(String(format: "%.0f", rate)) MiB/s")
            }
        }
        for path in ["direct", "relay"] {
            print("  \(path) median: \(String(format: "%.0f", median(rates[path]!))) MiB/s")
        }
        print("  relay / direct: \(String(format: "%.2f", median(rates["relay"]!) / median(rates["direct"]!)))")

        print("connect to first byte: \(options.connects) sequential connects per path")
        // One relayed connect first: the tunnel is dialled once, not measured.
        _ = try await receive(port: relayedFirst, group: group)
        for (path, port) in [("direct", directFirst), ("relay", relayedFirst)] {
            var samples: [Double] = []
            for _ in 0..<options.connects {
                let (received, seconds) = try await receive(port: port, group: group, untilBytes: 1)
                guard received == 1 else { throw Usage(message: "\(path): no first byte") }
                samples.append(seconds * 1000)
            }
            samples.sort()
            print("  \(path): p50 \(String(format: "%.3f", percentile(samples, 0.5))) ms, p99 \(String(format: "%.3f", percentile(samples, 0.99))) ms")
        }

        print("concurrent: \(options.concurrent) relayed connections open at once, one echo each")
        let before = residentMiB()
        let started = ContinuousClock.now
        let held = try await withThrowingTaskGroup(of: (Channel, Bool).self) { connections in
            for n in 0..<options.concurrent {
                connections.addTask { try await echoOnce(port: relayedEcho, group: group, tag: UInt32(n)) }
            }
            var held: [(Channel, Bool)] = []
            for try await connection in connections { held.append(connection) }
            return held
        }
        let elapsed = ContinuousClock.now - started
        let after = residentMiB()
        let failed = held.count { !$0.1 }
        print("  \(held.count - failed) echoed, \(failed) failed, in \(elapsed); RSS \(before) -> \(after) MiB (+\(after - before)) with all open")
        for (channel, _) in held { try? await channel.close() }

        await importer.shutdown()
        await exporter.shutdown()
        for server in [bulkServer, byteServer, echoServer] { try await server.close() }
    }

    /// Connects, sends 4 bytes, waits for their echo; returns the open connection and
    /// whether the echo came back whole.
    static func echoOnce(port: UInt16, group: any EventLoopGroup, tag: UInt32) async throws -> (Channel, Bool) {
        let echoed = group.next().makePromise(of: Int.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ByteCounter(done: echoed, until: 4)) }
            }
            .connect(host: "127.0.0.1", port: Int(port)).get()
        var message = channel.allocator.buffer(capacity: 4)
        message.writeInteger(tag)
        try await channel.writeAndFlush(message)
        return (channel, try await echoed.futureResult.get() == 4)
    }

    /// This process's resident set, from /proc (Linux).
    static func residentMiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib / 1024
    }

    static func endpoint(_ channel: Channel) -> Endpoint {
        Endpoint(ipv4: 127, 0, 0, 1, port: UInt16(channel.localAddress!.port!))
    }

    static func serve(_ group: any EventLoopGroup, _ make: @escaping @Sendable () -> any ChannelHandler) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(make()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Connects to `port` and counts bytes until the server closes (or `untilBytes` came);
    /// returns the count and the seconds from starting the connect.
    static func receive(port: UInt16, group: any EventLoopGroup, untilBytes: Int? = nil) async throws -> (Int, Double) {
        let start = ContinuousClock.now
        let done = group.next().makePromise(of: Int.self)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ByteCounter(done: done, until: untilBytes)) }
            }
            .connect(host: "127.0.0.1", port: Int(port)).get()
        let received = try await done.futureResult.get()
        let elapsed = ContinuousClock.now - start
        try? await channel.close()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (received, seconds)
    }

    static func median(_ values: [Double]) -> Double { percentile(values.sorted(), 0.5) }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
}

/// Writes `bytes` bytes (from one 1 MiB buffer) as fast as the connection takes them, then
/// closes.
final class StreamSender: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var left: Int
    private var chunk: ByteBuffer?

    init(bytes: Int) { left = bytes }

    func channelActive(context: ChannelHandlerContext) {
        chunk = context.channel.allocator.buffer(repeating: 0x7a, count: 1 << 20)
        fill(context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) { fill(context) }

    private func fill(_ context: ChannelHandlerContext) {
        guard let chunk else { return }
        while left > 0, context.channel.isWritable {
            let size = min(left, chunk.readableBytes)
            left -= size
            context.write(wrapOutboundOut(chunk.getSlice(at: chunk.readerIndex, length: size)!), promise: nil)
        }
        if left == 0 {
            self.chunk = nil
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        } else {
            context.flush()
        }
    }
}

/// Sends back what it reads.
final class Echo: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.writeAndFlush(data, promise: nil) }
}

/// Counts what a connection reads; completes `done` at the end or once `until` bytes came.
final class ByteCounter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let done: EventLoopPromise<Int>
    private let until: Int?
    private var count = 0

    init(done: EventLoopPromise<Int>, until: Int?) {
        self.done = done
        self.until = until
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        count += unwrapInboundIn(data).readableBytes
        if let until, count >= until { done.succeed(count) }
    }

    func channelInactive(context: ChannelHandlerContext) { done.succeed(count) }
    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}
