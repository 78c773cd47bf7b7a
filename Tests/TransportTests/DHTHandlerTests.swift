import Kademlia
import NIOCore
import NIOEmbedded
import Testing

@testable import Transport

/// The handler alone, on an `EmbeddedChannel`: datagrams in, datagrams out, no socket.
@Suite struct DHTHandlerTests {
    let network = NetworkID(name: "test")
    let peerAddress = try! SocketAddress(ipAddress: "127.0.0.1", port: 4001)

    func channel() throws -> (EmbeddedChannel, DHTHandler) {
        let (_, continuation) = AsyncStream.makeStream(of: SubscriptionNotification.self)
        let node = DHTNode(identity: try Identity(seed: [UInt8](repeating: 1, count: 32)), configuration: Configuration(network: network), seed: 1)
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
