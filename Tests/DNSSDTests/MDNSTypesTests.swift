@testable import DNSSD
import Testing

/// The service types an mDNS response names, whichever responder sent it.
struct MDNSTypesTests {
    /// python-zeroconf 0.47's announcement of `Lab Sensor._zsensor._tcp.local` (its
    /// `generate_service_broadcast`): PTR, SRV, TXT and A as answers, no enumeration record.
    static let zeroconfAnnouncement: [UInt8] = bytes(hex: """
        000084000000000400000000085f7a73656e736f72045f746370056c6f63616c00000c000100001194000d0a4c61622053656e736f72\
        c00cc02b00218001000000780013000000001f900a6c61622d73656e736f72c01ac02b0010800100001194000e0d6e6f74653d7a65726f\
        636f6e66c04a000180010000007800040a01000c
        """)

    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16) }
    }

    /// One resource record, names written out in full (no compression).
    struct Record {
        var owner: String
        var type: UInt16 = 12
        var ttl: UInt32 = 4500
        var rdata: [UInt8]

        static func ptr(_ owner: String, _ target: String, ttl: UInt32 = 4500) -> Record {
            Record(owner: owner, ttl: ttl, rdata: name(target))
        }
    }

    static func name(_ text: String) -> [UInt8] {
        text.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    /// A response (or with `flags` 0 a query) with `records` as answers.
    static func message(_ records: [Record], flags: UInt16 = 0x8400) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, UInt8(flags >> 8), UInt8(flags & 0xff), 0, 0, 0, UInt8(records.count), 0, 0, 0, 0]
        for record in records {
            bytes += name(record.owner) + [UInt8(record.type >> 8), UInt8(record.type & 0xff), 0, 1]
            bytes += [UInt8(record.ttl >> 24), UInt8(record.ttl >> 16 & 0xff), UInt8(record.ttl >> 8 & 0xff), UInt8(record.ttl & 0xff)]
            bytes += [UInt8(record.rdata.count >> 8), UInt8(record.rdata.count & 0xff)] + record.rdata
        }
        return bytes
    }

    static func type(_ text: String) throws -> ServiceType { try ServiceType(text) }

    @Test func anAnnouncementWithoutTheEnumerationRecordNamesItsType() throws {
        #expect(try MDNSTypes.types(in: Self.zeroconfAnnouncement).get() == [Self.type("_zsensor._tcp")])
    }

    @Test func theEnumerationRecordNamesItsTargetAndTheTypeIsNamedOnce() throws {
        let avahi = Self.message([
            .ptr("_services._dns-sd._udp.local", "_zlamp._tcp.local"),
            .ptr("_zlamp._tcp.local", "Lamp._zlamp._tcp.local"),
        ])
        #expect(try MDNSTypes.types(in: avahi).get() == [Self.type("_zlamp._tcp")])
        // The enumeration record alone (an answer to a type browser's query).
        let answer = Self.message([.ptr("_services._dns-sd._udp.local", "_ipp._tcp.local")])
        #expect(try MDNSTypes.types(in: answer).get() == [Self.type("_ipp._tcp")])
    }

    @Test func aSubtypeNamesItsType() throws {
        let response = Self.message([.ptr("_printer._sub._http._tcp.local", "Lab._http._tcp.local")])
        #expect(try MDNSTypes.types(in: response).get() == [Self.type("_http._tcp")])
    }

    @Test func typesAreNamedInTheOrderFirstSeen() throws {
        let response = Self.message([
            .ptr("_ipp._tcp.local", "A._ipp._tcp.local"),
            .ptr("_raop._tcp.local", "B._raop._tcp.local"),
            .ptr("_ipp._tcp.local", "C._ipp._tcp.local"),
        ])
        #expect(try MDNSTypes.types(in: response).get() == [Self.type("_ipp._tcp"), Self.type("_raop._tcp")])
    }

    @Test func reverseLookupsGoodbyesOtherRecordsAndBadTypesNameNone() throws {
        let response = Self.message([
            .ptr("12.0.1.10.in-addr.arpa", "lab-sensor.local"),
            .ptr("_gone._tcp.local", "Old._gone._tcp.local", ttl: 0),
            Record(owner: "_srv._tcp.local", type: 33, rdata: [0, 0, 0, 0, 0x1f, 0x90] + Self.name("host.local")),
            .ptr("_nvstream_dbd._tcp.local", "X._nvstream_dbd._tcp.local"),
            .ptr("_ipp._tcp.example.com", "X._ipp._tcp.example.com"),
            .ptr("_services._dns-sd._udp.local", "_services._dns-sd._udp.local"),
            .ptr("_printer._notsub._http._tcp.local", "X._http._tcp.local"),
        ])
        #expect(try MDNSTypes.types(in: response).get().isEmpty)
    }

    @Test func aQueryIsRefused() {
        let query = Self.message([.ptr("_ipp._tcp.local", "A._ipp._tcp.local")], flags: 0)
        #expect(MDNSTypes.types(in: query) == .failure(.notAResponse))
    }

    @Test func everyTruncationIsRefusedAsTruncated() {
        let full = Self.message([
            .ptr("_services._dns-sd._udp.local", "_zlamp._tcp.local"),
            .ptr("_zlamp._tcp.local", "Lamp._zlamp._tcp.local"),
        ])
        for length in 0..<full.count {
            guard case .failure(.truncated) = MDNSTypes.types(in: Array(full.prefix(length))) else {
                Issue.record("a message cut at \(length) bytes was not refused as truncated")
                continue
            }
        }
        for length in 0..<Self.zeroconfAnnouncement.count {
            guard case .failure = MDNSTypes.types(in: Array(Self.zeroconfAnnouncement.prefix(length))) else {
                Issue.record("the announcement cut at \(length) bytes was accepted")
                continue
            }
        }
    }

    @Test func aMalformedTargetRefusesTheMessage() {
        // A label of the reserved kind 0x40 inside a PTR target.
        let response = Self.message([Record(owner: "_ipp._tcp.local", rdata: [0x41, 0])])
        #expect(MDNSTypes.types(in: response) == .failure(.badName(at: 12 + 17 + 10)))
    }

    @Test func aRecordLongerThanTheMessageIsRefused() {
        var response = Self.message([.ptr("_ipp._tcp.local", "A._ipp._tcp.local")])
        response[12 + 17 + 9] += 1
        #expect(MDNSTypes.types(in: response) == .failure(.truncated(at: response.count)))
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var bytes = Self.zeroconfAnnouncement
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = MDNSTypes.types(in: bytes)
        }
    }
}
