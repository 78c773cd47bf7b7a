import DNSSD
import Island
import Testing
@testable import Relay

/// The channel target that names a service: golden bytes, round trips, strict rejection.
struct ServiceRefCodecTests {
    @Test func encodingIsVersionedHexOfIslandTransportTypeAndName() {
        let ref = Fixture.service("Pr", type: "_ipp._tcp", island: IslandID(rawValue: 0x0102030405060708))
        // island (8) | tcp (0) | 9 "_ipp._tcp" | 2 "Pr"
        #expect(ServiceRefCodec.encode(ref) == "z2z-relay-1:" + "0102030405060708" + "00" + "09" + "5f6970702e5f746370" + "02" + "5072")
    }

    @Test(arguments: [
        ("Lab Printer 3.1 (Raum Ä)", "_ipp._tcp", TransportProtocol.tcp),
        ("dns", "_domain._udp", .udp),
        ("sip phone", "_sip._udp", .tcp),
        (String(repeating: "x", count: 63), "_a-b-c-d-e-f-g-h._tcp", .udp),
    ])
    func everyValidServiceRoundTrips(name: String, type: String, transport: TransportProtocol) throws {
        var ref = Fixture.service(name, type: type)
        ref.transport = transport
        let target = ServiceRefCodec.encode(ref)
        #expect(target.utf8.count <= ServiceRefCodec.maximumTargetLength)
        #expect(try ServiceRefCodec.decode(target) == ref)
    }

    @Test func transportFollowsTheTypeUnlessGiven() {
        #expect(Fixture.service(type: "_ipp._tcp").transport == .tcp)
        #expect(Fixture.service(type: "_domain._udp").transport == .udp)
    }

    @Test(arguments: [
        "",
        "192.168.1.10",
        "z2z-relay-2:00",
        "z2z-relay-1:",
        "z2z-relay-1:0",  // odd length
        "z2z-relay-1:00000000000000A1000a5f6970702e5f74637002" + "5072",  // uppercase hex
        "z2z-relay-1:00000000000000a1" + "02" + "09" + "5f6970702e5f746370" + "02" + "5072",  // transport 2
        "z2z-relay-1:00000000000000a1" + "00" + "09" + "5f6970702e5f746370" + "03" + "5072",  // name runs past the end
        "z2z-relay-1:00000000000000a1" + "00" + "09" + "5f6970702e5f746370" + "02" + "507200",  // trailing byte
        "z2z-relay-1:00000000000000a1" + "00" + "09" + "5f4950502e5f544350" + "02" + "5072",  // "_IPP._TCP": not canonical
        "z2z-relay-1:00000000000000a1" + "00" + "08" + "5f6970702e746370" + "02" + "5072",  // "_ipp.tcp"
        "z2z-relay-1:00000000000000a1" + "00" + "09" + "5f6970702e5f746370" + "00",  // empty name
        "z2z-relay-1:00000000000000a1" + "00" + "09" + "5f6970702e5f746370" + "02" + "5001",  // control character
        "z2z-relay-1:00000000000000a1" + "00" + "09" + "5f6970702e5f746370" + "02" + "c328",  // not UTF-8
    ])
    func malformedTargetsAreRefusedAsMalformedRequests(target: String) {
        #expect(throws: RelayRefusal.malformedRequest) { try ServiceRefCodec.decode(target) }
    }

    @Test func anOverlongTargetIsRefusedBeforeDecoding() {
        let target = ServiceRefCodec.prefix + String(repeating: "00", count: 4096)
        #expect(throws: RelayRefusal.malformedRequest) { try ServiceRefCodec.decode(target) }
    }

    @Test func sameInstanceIgnoresTransportOnly() {
        let tcp = Fixture.service(type: "_sip._udp")
        var udp = tcp
        udp.transport = .tcp
        #expect(tcp.isSameInstance(as: udp))
        #expect(!tcp.isSameInstance(as: Fixture.service("Other", type: "_sip._udp")))
        #expect(!tcp.isSameInstance(as: Fixture.service(type: "_sip._udp", island: IslandID(rawValue: 2))))
    }
}

/// The two bytes that answer a stream request.
struct StreamReplyTests {
    @Test func repliesRoundTripForEveryReason() {
        #expect(StreamReply.accepted.bytes == [0, 0])
        for reason in RelayRefusal.allCases {
            let bytes = StreamReply.refused(reason).bytes
            #expect(StreamReply(bytes: (bytes[0], bytes[1])) == .refused(reason))
        }
    }

    @Test func unknownRepliesReadAsProtocolErrors() {
        #expect(StreamReply(bytes: (1, 200)) == .refused(.protocolError))
        #expect(StreamReply(bytes: (0, 1)) == .refused(.protocolError))
        #expect(StreamReply(bytes: (7, 0)) == .refused(.protocolError))
    }

    @Test func wireCodesAreStableAndDistinct() {
        #expect(RelayRefusal.allCases.map(\.code) == Array(1...12))
        for refusal in RelayRefusal.allCases { #expect(RelayRefusal(code: refusal.code) == refusal) }
        #expect(RelayRefusal(code: 0) == nil)
    }

    @Test func reasonsAreDistinctSnakeCaseLabels() {
        let labels = RelayRefusal.allCases.map(\.reason)
        #expect(Set(labels).count == labels.count)
        #expect(labels.allSatisfy { $0.allSatisfy { $0.isLowercase || $0 == "_" } })
        #expect(RelayRefusal.notExported.reason == "not_exported")
        #expect(RelayRefusal.badNetworkKey.reason == "bad_network_key")
    }
}
