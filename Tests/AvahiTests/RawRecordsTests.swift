@testable import Avahi
import DNSSD
import Testing

struct RawRecordsTests {
    @Test func serviceRecordsAreThoseAvahiWouldMake() throws {
        let records = RawRecord.service(
            name: try InstanceName("Lab 3.1"), type: try ServiceType("_ipp._tcp"), subtypes: [try Subtype("_print")],
            domain: .local, port: 631, txt: try TXTRecord(["rp": "lab"]), target: try HostName("gw-printer.local"))
        let byKind = Dictionary(grouping: records) { "\($0.name) \($0.type)" }
        let ptr = try #require(byKind["_ipp._tcp.local 12"]?.first)
        #expect(ptr.rdata == [7] + Array("Lab 3.1".utf8) + [4] + Array("_ipp".utf8) + [4] + Array("_tcp".utf8) + [5] + Array("local".utf8) + [0])
        #expect(!ptr.unique && ptr.ttl == 4500)
        let srv = try #require(byKind[#"Lab\0323\.1._ipp._tcp.local 33"#]?.first)
        #expect(srv.rdata == [0, 0, 0, 0, 0x02, 0x77, 10] + Array("gw-printer".utf8) + [5] + Array("local".utf8) + [0])
        #expect(srv.unique && srv.ttl == 120)
        let txt = try #require(byKind[#"Lab\0323\.1._ipp._tcp.local 16"#]?.first)
        #expect(txt.rdata == [6] + Array("rp=lab".utf8))
        #expect(byKind["_print._sub._ipp._tcp.local 12"]?.first?.rdata == ptr.rdata)
        #expect(byKind["_services._dns-sd._udp.local 12"]?.first?.rdata == [4] + Array("_ipp".utf8) + [4] + Array("_tcp".utf8) + [5] + Array("local".utf8) + [0])
        #expect(records.count == 5)
    }

    @Test func addressRecordsAreAAndAAAAWithoutReverse() throws {
        let records = RawRecord.addresses(of: try HostName("cam.local"), [try IPAddress("10.0.2.17"), try IPAddress("fd00::17")])
        #expect(records.map(\.type) == [1, 28])
        #expect(records[0].rdata == [10, 0, 2, 17])
        #expect(records.allSatisfy { $0.unique && $0.name == "cam.local" && $0.ttl == 120 })
    }

    /// As avahi-daemon announces its own host: so a resolver asking over IPv6 for any
    /// address finds the AAAA record, not the A record (issue 15).
    @Test func aDualStackHostsARecordsAreAnnouncedOverIPv4OnlyAndItsAAAARecordsOverBoth() throws {
        let records = RawRecord.addresses(of: try HostName("cam.local"), [try IPAddress("10.0.2.17"), try IPAddress("fd00::17")])
        #expect(records.map(\.only) == [.ipv4, nil])
    }

    /// Its services are announced over both protocols: over IPv6 they must resolve too.
    @Test func anIPv4OnlyHostsARecordsAreAnnouncedOverBothProtocols() throws {
        let records = RawRecord.addresses(of: try HostName("cam.local"), [try IPAddress("10.0.2.17"), try IPAddress("10.0.2.18")])
        #expect(records.map(\.only) == [nil, nil])
    }

    // MARK: announcing at once (router mode)

    /// The records of one imported printer on a dual-stack host, as `announceAtOnce` sends them.
    private func importedPrinter() throws -> [RawRecord] {
        RawRecord.addresses(of: try HostName("gw-printer.local"), [try IPAddress("10.0.2.17"), try IPAddress("fd00::17")])
            + RawRecord.service(name: try InstanceName("Lab 3.1"), type: try ServiceType("_ipp._tcp"), subtypes: [],
                                domain: .local, port: 631, txt: try TXTRecord(["rp": "lab"]), target: try HostName("gw-printer.local"))
    }

    /// Each answer of an uncompressed response: owner labels, type, class, TTL, rdata.
    private func answers(_ packet: [UInt8]) throws -> [(owner: [String], type: UInt16, klass: UInt16, ttl: UInt32, rdata: [UInt8])] {
        try #require(packet.count >= 12)
        #expect(Array(packet[0..<6]) == [0, 0, 0x84, 0, 0, 0], "a response, authoritative, no questions")
        let count = Int(packet[6]) << 8 | Int(packet[7])
        var at = 12
        var out: [(owner: [String], type: UInt16, klass: UInt16, ttl: UInt32, rdata: [UInt8])] = []
        for _ in 0..<count {
            var owner: [String] = []
            while true {
                let length = Int(try #require(packet.indices.contains(at) ? packet[at] : nil))
                at += 1
                if length == 0 { break }
                try #require(length < 64 && at + length <= packet.count)
                owner.append(String(decoding: packet[at..<at + length], as: UTF8.self))
                at += length
            }
            try #require(at + 10 <= packet.count)
            let field = { (offset: Int) in UInt16(packet[at + offset]) << 8 | UInt16(packet[at + offset + 1]) }
            let ttl = UInt32(field(4)) << 16 | UInt32(field(6))
            let length = Int(field(8))
            try #require(at + 10 + length <= packet.count)
            out.append((owner, field(0), field(2), ttl, Array(packet[at + 10..<at + 10 + length])))
            at += 10 + length
        }
        #expect(at == packet.count, "nothing after the answers")
        return out
    }

    @Test func anAnnouncementCarriesEveryRecordWithItsTTLAndTheCacheFlushBitOnUniqueOnes() throws {
        let records = try importedPrinter()
        let ipv4 = try answers(try #require(RawRecord.announcement(records, over: .ipv4)))
        // All six over IPv4: A, AAAA, PTR, SRV, TXT, the type enumeration PTR.
        #expect(ipv4.map(\.type) == [1, 28, 12, 33, 16, 12])
        for (answer, record) in zip(ipv4, records) {
            #expect(answer.owner == record.labels)
            #expect(answer.klass == (record.unique ? 0x8001 : 0x0001))
            #expect(answer.ttl == record.ttl)
            #expect(answer.rdata == record.rdata)
        }
        #expect(ipv4[3].owner == ["Lab 3.1", "_ipp", "_tcp", "local"], "labels as they are, not Avahi's escaped text")
    }

    /// As avahi-daemon would announce them: the A record of a dual-stack host not over IPv6.
    @Test func anAnnouncementOverIPv6LeavesOutTheRecordsAnnouncedOverIPv4Only() throws {
        let ipv6 = try answers(try #require(RawRecord.announcement(try importedPrinter(), over: .ipv6)))
        #expect(ipv6.map(\.type) == [28, 12, 33, 16, 12])
    }

    /// The PTRs read back as the goodbye listener reads them, with their TTLs.
    @Test func anAnnouncementsPTRsAreReadBackByTheListenersParser() throws {
        let packet = try #require(RawRecord.announcement(try importedPrinter(), over: .ipv4))
        let ptrs = try MDNSResponse.ptrRecords(in: packet).get()
        #expect(MDNSGoodbyes.announced(in: ptrs) == [ServiceID(name: try InstanceName("Lab 3.1"), type: try ServiceType("_ipp._tcp"))])
        #expect(ptrs.allSatisfy { $0.ttl == 4500 })
    }

    /// Avahi splits what does not fit one datagram; we leave such records to it.
    @Test func recordsTooLargeForOneDatagramAreNotAnnouncedOurselves() throws {
        let big = try TXTRecord(entries: try (0..<30).map { try TXTEntry(key: "key\($0)", text: String(repeating: "v", count: 60)) })
        let records = RawRecord.service(name: try InstanceName("Big"), type: try ServiceType("_ipp._tcp"), subtypes: [],
                                        domain: .local, port: 631, txt: big, target: try HostName("gw.local"))
        #expect(RawRecord.announcement(records, over: .ipv4) == nil)
        #expect(RawRecord.announcement([], over: .ipv4) == nil)
    }
}
