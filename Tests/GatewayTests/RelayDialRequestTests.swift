import Gateway
import Primitives
import Testing

/// The DHT value that asks a leader behind NAT to dial a relay: round trip, and every
/// malformed form refused with a reason.
struct RelayDialRequestTests {
    let target = NodeID(w0: 0x1122_3344_5566_7788, w1: 2, w2: 3, w3: 4)
    let endpoints = [Endpoint(ipv4: 100, 64, 1, 1, port: 7403), Endpoint(ipv4: 10, 30, 1, 11, port: 7403)]

    @Test func aRequestReadsBackAsWritten() throws {
        let request = RelayDialRequest(target: target, endpoints: endpoints)
        let decoded = try RelayDialRequest(decoding: request.encoded)
        #expect(decoded.target == target)
        #expect(Set(decoded.endpoints) == Set(endpoints))
        #expect(RelayDialRequest.valueID(of: target) == 0x1122_3344_5566_7788)
    }

    @Test func malformedRequestsAreRefusedWithAReason() throws {
        let bytes = RelayDialRequest(target: target, endpoints: endpoints).encoded
        #expect(throws: ServiceRecordRejection.badMagic) { try RelayDialRequest(decoding: Array("z2zS".utf8) + bytes.dropFirst(4)) }
        var otherVersion = bytes
        otherVersion[4] = 2
        #expect(throws: ServiceRecordRejection.unsupportedVersion(2)) { try RelayDialRequest(decoding: otherVersion) }
        for cut in [0, 3, 5, 20, bytes.count - 1] {
            #expect(throws: ServiceRecordRejection.self, "cut at \(cut)") { try RelayDialRequest(decoding: Array(bytes.prefix(cut))) }
        }
        #expect(throws: ServiceRecordRejection.self) { try RelayDialRequest(decoding: bytes + [0]) }
    }
}
