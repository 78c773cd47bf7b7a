@testable import Island
import Primitives
import Testing

struct HeartbeatCodecTests {
    let beat = Heartbeat(network: NetworkID(rawValue: 0x0102030405060708), sender: NodeID(w0: 1, w1: 2, w2: 3, w3: 4),
                         priority: 7, role: .follower, island: IslandID(rawValue: 0xabcdef), leader: NodeID(w0: 9, w1: 9, w2: 9, w3: 9),
                         term: 42, incarnation: 1_764_100_000_123, sequence: 77, port: 7400)

    @Test func roundTripsWithAndWithoutOptionalFields() throws {
        #expect(try HeartbeatCodec.decode(HeartbeatCodec.encode(beat)) == beat)
        var bare = beat
        bare.island = nil
        bare.leader = nil
        bare.role = .candidate
        #expect(try HeartbeatCodec.decode(HeartbeatCodec.encode(bare)) == bare)
        #expect(HeartbeatCodec.encode(beat).count == HeartbeatCodec.maximumSize - NetworkKey.tagBytes)
    }

    @Test func goldenBytesStayStable() {
        let bytes = HeartbeatCodec.encode(beat)
        #expect(Array(bytes.prefix(5)) == Array("z2zH".utf8) + [2])
        // incarnation u64 | sequence u64 | port u16
        #expect(Array(bytes.suffix(18)) == [0, 0, 0x01, 0x9a, 0xbc, 0x8d, 0xc9, 0x7b, 0, 0, 0, 0, 0, 0, 0, 77, 0x1c, 0xe8])
    }

    @Test func everyTruncationIsRefused() {
        let bytes = HeartbeatCodec.encode(beat)
        for length in 0..<bytes.count {
            #expect(throws: HeartbeatRejection.self) { try HeartbeatCodec.decode(Array(bytes.prefix(length))) }
        }
    }

    @Test func badFramesAreRefusedWithTheirReason() {
        var bytes = HeartbeatCodec.encode(beat)
        #expect(throws: HeartbeatRejection.read(.trailingBytes(1))) { try HeartbeatCodec.decode(bytes + [0]) }
        bytes[0] = UInt8(ascii: "Z")
        #expect(throws: HeartbeatRejection.badMagic) { try HeartbeatCodec.decode(bytes) }
        bytes = HeartbeatCodec.encode(beat)
        bytes[4] = 1
        #expect(throws: HeartbeatRejection.unsupportedVersion(1), "version 1 has nothing to refuse replays by") {
            try HeartbeatCodec.decode(bytes)
        }
        bytes = HeartbeatCodec.encode(beat)
        bytes[4 + 1 + 8 + 32 + 1] = 3
        #expect(throws: HeartbeatRejection.unknownRole(3)) { try HeartbeatCodec.decode(bytes) }
        bytes = HeartbeatCodec.encode(beat)
        bytes[4 + 1 + 8 + 32 + 2] = 11
        #expect(throws: HeartbeatRejection.unknownFlags(11)) { try HeartbeatCodec.decode(bytes) }
    }

    // MARK: admission

    let key = NetworkKey(secret: Array("the island's shared secret".utf8), network: NetworkID(rawValue: 0x0102030405060708))!

    @Test func aTaggedHeartbeatRoundTripsWithTheNetworkKey() throws {
        let bytes = HeartbeatCodec.encode(beat, key: key)
        #expect(bytes.count == HeartbeatCodec.maximumSize)
        #expect(try HeartbeatCodec.decode(bytes, key: key) == beat)
    }

    @Test func aGatewayWithTheKeyRefusesHeartbeatsWithoutOrWithAnotherKey() {
        let other = NetworkKey(secret: Array("another network's secret".utf8), network: beat.network)!
        #expect(throws: HeartbeatRejection.missingTag) { try HeartbeatCodec.decode(HeartbeatCodec.encode(beat), key: key) }
        #expect(throws: HeartbeatRejection.badTag) { try HeartbeatCodec.decode(HeartbeatCodec.encode(beat, key: other), key: key) }
        // A forged claim to lead: the outsider rewrites a captured heartbeat's priority.
        var forged = HeartbeatCodec.encode(beat, key: key)
        forged[4 + 1 + 8 + 32] = 255
        #expect(throws: HeartbeatRejection.badTag) { try HeartbeatCodec.decode(forged, key: key) }
        #expect(throws: HeartbeatRejection.unexpectedTag) { try HeartbeatCodec.decode(HeartbeatCodec.encode(beat, key: key)) }
        #expect(HeartbeatRejection.badTag.reason == "bad_tag")
    }

    @Test func everyTruncationOfATaggedHeartbeatIsRefused() {
        let bytes = HeartbeatCodec.encode(beat, key: key)
        for length in 0..<bytes.count {
            #expect(throws: HeartbeatRejection.self) { try HeartbeatCodec.decode(Array(bytes.prefix(length)), key: key) }
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var rng = Xoshiro256(seed: 7)
        for _ in 0..<5000 {
            var bytes = HeartbeatCodec.encode(beat)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? HeartbeatCodec.decode(Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng))))
        }
    }
}
