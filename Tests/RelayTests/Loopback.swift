import Crypto
import Foundation
import Testbed
import NIOCore
import NIOPosix
import Primitives
import Synchronization

/// Real sockets on 127.0.0.1 and ::1 for the relay's end-to-end tests: small servers
/// behind the exporting leader, clients in front of the importing one, and bounded waits.


/// The value of a task started earlier, cancelling it (and failing with `TimedOut`) when it
/// has not finished after `seconds`.
func value<T: Sendable>(of task: Task<T, Error>, within seconds: Double, _ what: String) async throws -> T {
    let deadline = Task { () -> Bool in
        do { try await Task.sleep(for: .seconds(seconds)) } catch { return false }
        task.cancel()
        return true
    }
    let result = await task.result
    deadline.cancel()
    if await deadline.value { throw TimedOut(what: what) }
    return try result.get()
}

/// When a channel closed, as its event loop saw it: a deadline checked on this stamp holds
/// even when the test's own tasks wait for a thread of a busy machine.
final class CloseStamp: Sendable {
    private let instant = Mutex<ContinuousClock.Instant?>(nil)

    init(_ channel: Channel) {
        channel.closeFuture.whenComplete { [self] _ in instant.withLock { $0 = ContinuousClock.now } }
    }

    var closed: ContinuousClock.Instant? { instant.withLock { $0 } }
}

/// Reads a connection to its end, counting the bytes.
func drain(_ connection: Connection) async throws -> Int {
    try await connection.executeThenClose { inbound, _ in
        var count = 0
        for try await chunk in inbound { count += chunk.readableBytes }
        return count
    }
}

/// Polls `condition` every 20 ms until it holds, failing after `seconds`.
func eventually(_ seconds: Double, _ what: String, _ condition: @escaping @Sendable () async -> Bool) async throws {
    try await within(seconds, what) {
        while await !condition() { try await Task.sleep(for: .milliseconds(20)) }
    }
}

let loopbackV4 = Endpoint.Address.v4(0x7f00_0001)
let loopbackV6 = Endpoint.Address.v6(0, 1)
let group = MultiThreadedEventLoopGroup.singleton

/// Reproducible bytes: a file to stream.
func blob(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = Xoshiro256(seed: seed)
    var bytes = [UInt8]()
    bytes.reserveCapacity(count)
    while bytes.count < count {
        let word = rng.next()
        for shift in stride(from: 0, to: 64, by: 8) where bytes.count < count { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
    }
    return bytes
}

func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

// MARK: servers behind the exporting leader

/// A TCP server on 127.0.0.1 whose connections each get a handler from `make`.
struct TestServer {
    let channel: Channel
    var endpoint: Endpoint { Endpoint(ipv4: 127, 0, 0, 1, port: UInt16(channel.localAddress!.port!)) }

    static func tcp(_ make: @escaping @Sendable () -> any ChannelHandler) async throws -> TestServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(make()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestServer(channel: channel)
    }

    /// A UDP server on 127.0.0.1 that sends every datagram back, prefixed with "echo:".
    static func udpEcho() async throws -> TestServer {
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPEcho()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestServer(channel: channel)
    }

    func close() async { try? await channel.close() }
}

/// Sends one blob to each client, then shuts its output (a file server).
final class BlobSender: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let blob: [UInt8]
    init(_ blob: [UInt8]) { self.blob = blob }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: blob))).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
    }
}

/// Sends 64 KiB chunks for as long as the client takes them, without end.
final class EndlessSender: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) { fill(context) }
    func channelWritabilityChanged(context: ChannelHandlerContext) { fill(context) }

    private func fill(_ context: ChannelHandlerContext) {
        let chunk = context.channel.allocator.buffer(repeating: 0x5a, count: 64 * 1024)
        while context.channel.isWritable && context.channel.isActive { context.write(wrapOutboundOut(chunk), promise: nil) }
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

/// Collects the whole request until the client shuts its output, then answers with it
/// reversed and shuts its own (a request/response protocol over half-closure).
final class ReverseAfterEOF: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var request: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        request += bytes.readBytes(length: bytes.readableBytes)!
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else { return }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: request.reversed()))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

/// Echoes every byte at once (a chatty interactive protocol).
final class Echo: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.writeAndFlush(data, promise: nil) }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
    }
}

final class UDPEcho: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        var answer = context.channel.allocator.buffer(string: "echo:")
        answer.writeImmutableBuffer(envelope.data)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: answer)), promise: nil)
    }
}

// MARK: clients in front of the importing leader

typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

func connect(_ host: String, _ port: UInt16) async throws -> Connection {
    try await ClientBootstrap(group: group)
        .channelOption(.allowRemoteHalfClosure, value: true)
        .connect(host: host, port: Int(port)) { channel in
            channel.eventLoop.makeCompletedFuture {
                try Connection(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
            }
        }
}

/// Connects, optionally sends `request` and shuts its output, and reads until the server
/// closes: what a client of the relayed service receives.
func fetch(_ host: String, _ port: UInt16, sending request: [UInt8]? = nil) async throws -> [UInt8] {
    let connection = try await connect(host, port)
    return try await connection.executeThenClose { inbound, outbound in
        if let request {
            try await outbound.write(ByteBuffer(bytes: request))
            outbound.finish()
        }
        var received: [UInt8] = []
        for try await var chunk in inbound { received += chunk.readBytes(length: chunk.readableBytes)! }
        return received
    }
}

/// Sends each datagram from one UDP socket to `port` and collects as many answers.
func udpExchange(_ host: String, _ port: UInt16, _ datagrams: [String]) async throws -> [String] {
    let socket = try await DatagramBootstrap(group: group)
        .bind(host: host, port: 0) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel) }
        }
    let target = try SocketAddress(ipAddress: host, port: Int(port))
    return try await socket.executeThenClose { inbound, outbound in
        var answers: [String] = []
        var iterator = inbound.makeAsyncIterator()
        for datagram in datagrams {
            try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: datagram)))
            guard let answer = try await iterator.next() else { break }
            answers.append(String(buffer: answer.data))
        }
        return answers
    }
}
