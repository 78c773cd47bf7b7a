import DNSSD
import Testing

/// LAN prefixes as islands compare them: host bits cleared, containment and overlap in both
/// families, and a reason for every refused text.
struct IPPrefixTests {
    @Test func hostBitsAreClearedAndPrintedBack() throws {
        #expect(try IPPrefix("192.168.1.77/24").description == "192.168.1.0/24")
        #expect(try IPPrefix("10.1.2.3/8").description == "10.0.0.0/8")
        #expect(try IPPrefix("10.1.2.3/32").description == "10.1.2.3/32")
        #expect(try IPPrefix("10.1.2.3/0").description == "0.0.0.0/0")
        #expect(try IPPrefix("fd00:1:2:3::9/64") == (try IPPrefix("fd00:1:2:3::/64")))
        #expect(try IPPrefix("fd00:1:2:3:4:5:6:7/100") == (try IPPrefix("fd00:1:2:3:4:5:0:0/100")))
    }

    @Test func containmentAndOverlap() throws {
        let lan = try IPPrefix("192.168.1.0/24")
        #expect(lan.contains(try IPAddress("192.168.1.200")))
        #expect(!lan.contains(try IPAddress("192.168.2.1")))
        #expect(!lan.contains(try IPAddress("fd00::1")), "another family is never inside")
        #expect(lan.overlaps(try IPPrefix("192.168.1.0/24")), "the same prefix on two islands")
        let wider = try IPPrefix("192.168.0.0/16")
        #expect(lan.overlaps(wider) && wider.overlaps(lan))
        #expect(!lan.overlaps(try IPPrefix("192.168.2.0/24")))
        let ula = try IPPrefix("fd00:1::/64")
        #expect(ula.overlaps(try IPPrefix("fd00:1::/48")))
        #expect(!ula.overlaps(try IPPrefix("fd00:2::/64")))
    }

    @Test func badTextIsRefused() {
        for text in ["192.168.1.0", "192.168.1.0/33", "fd00::/129", "x/24", "10.0.0.0/-1", "10.0.0.0/24/1", "/24"] {
            #expect(throws: DNSSDError.self, "\(text)") { try IPPrefix(text) }
        }
    }
}
