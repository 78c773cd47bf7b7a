import Kademlia
import NIOCore
import NIOEmbedded
import Primitives
import Testing

@testable import Transport

/// The handler alone, on an `EmbeddedChannel`: datagrams in, datagrams out, no socket.
@Suite struct DHTHandlerTests {
    let network = NetworkID(name: "test")
    let peerAddress = try! SocketAddress(ipAddress: "127.0.0.1", port: 4001)

    func channel(_ configure: (inout Configuration) -> Void = { _ in }) throws -> (EmbeddedChannel, DHTHandler) {
        let (_, continuation) = AsyncStream.makeStream(of: SubscriptionNotification.self)
        var configuration = Configuration(network: network)
        configure(&configuration)
        let node = DHTNode(identity: try Identity(seed: [UInt8](repeating: 1, count: 32)), configuration: configuration, seed: 1)
        let handler = DHTHandler(node: node, logger: .init(label: "test"), notifications: continuation)
        let channel = EmbeddedChannel(handler: handler)
        return (channel, handler)
    }

    func datagram(_ message: Message) -> AddressedEnvelope<ByteBuffer> {
        AddressedEnvelope(remoteAddress: peerAddress, data: ByteBuffer(bytes: WireCodec().encode(message)))
    }

    @Test func aPingDatagramIsAnsweredWithAPongToItsSource() throws {
        let (channel, _) = try channel()
        let sender = try Identity(seed: [UInt8](repeating: 2, count: 32)).id
        try channel.writeInbound(datagram(Message(header: MessageHeader(network: network, sender: sender, transaction: 99), body: .ping)))
        let out = try #require(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self))
        #expect(out.remoteAddress == peerAddress)
        let reply = try WireCodec().decode(Array(out.data.readableBytesView))
        #expect(reply.body == .pong && reply.header.transaction == 99)
    }

    @Test func garbageIsCountedByReasonAndNotAnswered() throws {
        let (channel, handler) = try channel()
        try channel.writeInbound(AddressedEnvelope(remoteAddress: peerAddress, data: ByteBuffer(bytes: [9, 9, 9])))
        #expect(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) == nil)
        #expect(handler.refusals["unsupported_version"] == 1)
        let sender = try Identity(seed: [UInt8](repeating: 2, count: 32)).id
        try channel.writeInbound(datagram(Message(header: MessageHeader(network: NetworkID(name: "other"), sender: sender, transaction: 1), body: .ping)))
        #expect(handler.refusals["wrong_network"] == 1)
    }

    /// The rate limiter runs before the codec: a flood from one source is cut at its burst and
    /// counted, and the source is served again once its bucket refills (virtual time).
    @Test func aFloodFromOneSourceIsCutAtItsBurstAndCounted() throws {
        let (channel, handler) = try channel { $0.limits.sourcePacketsPerSecond = 10; $0.limits.sourcePacketBurst = 5 }
        let sender = try Identity(seed: [UInt8](repeating: 2, count: 32)).id
        for n in 0..<8 {
            try channel.writeInbound(datagram(Message(header: MessageHeader(network: network, sender: sender, transaction: UInt32(n)), body: .ping)))
        }
        var answered = 0
        while let out = try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) {
            if try WireCodec().decode(Array(out.data.readableBytesView)).body == .pong { answered += 1 }
        }
        #expect(answered == 5)
        #expect(handler.refusals["rate_limited_source"] == 3)
        (channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .milliseconds(200))
        try channel.writeInbound(datagram(Message(header: MessageHeader(network: network, sender: sender, transaction: 99), body: .ping)))
        var pongs = 0
        while let out = try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) {
            if try WireCodec().decode(Array(out.data.readableBytesView)).body == .pong { pongs += 1 }
        }
        #expect(pongs == 1, "two tokens back after 200 ms")
    }

    /// A keyed handler answers a tagged ping with a tagged pong and refuses an untagged one.
    @Test func aKeyedHandlerAnswersOnlyTaggedFrames() throws {
        let key = NetworkKey(secret: Array("the handler's network key".utf8), network: network)!
        let (channel, handler) = try channel { $0.networkKey = key }
        let sender = try Identity(seed: [UInt8](repeating: 2, count: 32)).id
        let ping = Message(header: MessageHeader(network: network, sender: sender, transaction: 5), body: .ping)
        try channel.writeInbound(datagram(ping))
        #expect(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) == nil)
        #expect(handler.refusals["missing_tag"] == 1)
        try channel.writeInbound(AddressedEnvelope(remoteAddress: peerAddress, data: ByteBuffer(bytes: WireCodec(key: key).encode(ping))))
        let out = try #require(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self))
        #expect(try WireCodec(key: key).decode(Array(out.data.readableBytesView)).body == .pong)
    }

    @Test func theTimerFiresAtTheNodesDeadline() throws {
        let (channel, _) = try channel()
        let (loop) = channel.embeddedEventLoop
        // A bootstrap through an address that never answers: a ping goes out, and after the
        // request timeout the node gives up (a self-lookup with no contacts finishes).
        let promise = loop.makePromise(of: Outcome.self)
        let handler = try channel.pipeline.syncOperations.handler(type: DHTHandler.self)
        handler.start({ .bootstrap($0, [Endpoint(ipv4: 127, 0, 0, 1, port: 4002)]) }, promise: promise)
        #expect(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) != nil)
        var outcome: Outcome?
        promise.futureResult.whenSuccess { outcome = $0 }
        loop.advanceTime(by: .seconds(2))
        guard case .bootstrapped(let contacts, _) = outcome else { Issue.record("bootstrap did not finish after its timeout"); return }
        #expect(contacts == 0)
    }
}
