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
}
