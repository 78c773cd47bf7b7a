@testable import DNSSD
import Testing

struct MDNSGoodbyesTests {
    /// `_ipp._tcp.local PTR <instance>._ipp._tcp.local` with the given TTL; the target name
    /// points back at the owner name (compression), as responders write it.
    static func response(instance: String, ttl: UInt32, flags: UInt16 = 0x8400) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, UInt8(flags >> 8), UInt8(flags & 0xff), 0, 0, 0, 1, 0, 0, 0, 0]
        let owner = 12
        for label in ["_ipp", "_tcp", "local"] { bytes += [UInt8(label.utf8.count)] + Array(label.utf8) }
        bytes += [0, 0, 12, 0x80, 1] // end of name, type PTR, class IN with the cache-flush bit
        bytes += [UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xff), UInt8(ttl >> 8 & 0xff), UInt8(ttl & 0xff)]
        let target = [UInt8(instance.utf8.count)] + Array(instance.utf8) + [0xc0, UInt8(owner)]
        bytes += [0, UInt8(target.count)] + target
        return bytes
    }

    @Test func aGoodbyeNamesItsServiceInstance() throws {
        let ids = try MDNSGoodbyes.services(in: Self.response(instance: "Office Printer (2.1)", ttl: 0)).get()
        #expect(ids == [ServiceID(name: try InstanceName("Office Printer (2.1)"), type: try ServiceType("_ipp._tcp"))])
    }

    @Test func liveRecordsAreNoGoodbye() throws {
        #expect(try MDNSGoodbyes.services(in: Self.response(instance: "Office Printer", ttl: 4500)).get().isEmpty)
    }

    @Test func liveRecordsAnnounceTheirInstanceAndGoodbyesDoNot() throws {
        let live = try MDNSResponse.ptrRecords(in: Self.response(instance: "Office Printer", ttl: 4500)).get()
        #expect(MDNSGoodbyes.announced(in: live) == [ServiceID(name: try InstanceName("Office Printer"), type: try ServiceType("_ipp._tcp"))])
        let goodbye = try MDNSResponse.ptrRecords(in: Self.response(instance: "Office Printer", ttl: 0)).get()
        #expect(MDNSGoodbyes.announced(in: goodbye).isEmpty)
    }

    @Test func aGoodbyePacketReadsBackAsTheGoodbyeOfItsInstanceUnderEveryOwner() throws {
        let id = ServiceID(name: try InstanceName("Office Printer (staff)"), type: try ServiceType("_ipp._tcp"))
        let bytes = MDNSGoodbyes.packet(for: id, subtypes: [try Subtype("_universal")])
        let records = try MDNSResponse.ptrRecords(in: bytes).get()
        #expect(records.count == 2 && records.allSatisfy { $0.ttl == 0 })
        #expect(MDNSGoodbyes.services(in: records) == [id, id])
        #expect(records.map { String(decoding: $0.owner[0], as: UTF8.self) } == ["_ipp", "_universal"])
    }

    @Test func aQueryIsRefused() {
        #expect(MDNSGoodbyes.services(in: Self.response(instance: "P", ttl: 0, flags: 0)) == .failure(.notAResponse))
    }

    @Test func everyTruncationIsRefusedNeverRead() {
        let full = Self.response(instance: "Office Printer", ttl: 0)
        for length in 0..<full.count {
            guard case .failure = MDNSGoodbyes.services(in: Array(full.prefix(length))) else {
                Issue.record("a message cut at \(length) bytes was accepted")
                continue
            }
        }
    }

    @Test func aPointerLoopIsRefused() {
        // The answer's owner name is a pointer to itself.
        let bytes: [UInt8] = [0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 0, 0, 0]
        #expect(MDNSGoodbyes.services(in: bytes) == .failure(.pointerLoop(at: 12)))
    }

    @Test func namesThatAreNoServiceInstanceAreSkipped() throws {
        // `_services._dns-sd._udp.local PTR _ipp._tcp.local`: a type goes, no instance.
        var bytes: [UInt8] = [0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        for label in ["_services", "_dns-sd", "_udp", "local"] { bytes += [UInt8(label.utf8.count)] + Array(label.utf8) }
        bytes += [0, 0, 12, 0, 1, 0, 0, 0, 0]
        let target: [UInt8] = [4] + Array("_ipp".utf8) + [4] + Array("_tcp".utf8) + [0xc0, 12 + 10 + 8 + 5]
        bytes += [0, UInt8(target.count)] + target
        #expect(try MDNSGoodbyes.services(in: bytes).get().isEmpty)
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let length = Int.random(in: 0..<200, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count > 3 { bytes[2] |= 0x80 }
            _ = MDNSGoodbyes.services(in: bytes)
        }
    }
}
