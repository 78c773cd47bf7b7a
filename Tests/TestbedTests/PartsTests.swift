import DNSSD
import Testbed
import Testing

/// The pure parts of the testbed driver: the goodbye listener's lines, service files.
@Suite struct PartsTests {
    /// An mDNS response with one PTR record `_zfault._tcp.local → <instance>._zfault._tcp.local`.
    static func response(instance: String, ttl: UInt32) -> [UInt8] {
        func name(_ labels: [String]) -> [UInt8] {
            labels.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
        }
        let owner = name(["_zfault", "_tcp", "local"])
        // The target: the instance label, then a pointer to the owner at offset 12.
        let target = [UInt8(instance.utf8.count)] + Array(instance.utf8) + [0xc0, 12]
        let header: [UInt8] = [0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        let fixed: [UInt8] = [0, 12, 0, 1] + withUnsafeBytes(of: ttl.bigEndian, Array.init) + [0, UInt8(target.count)]
        return header + owner + fixed + target
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test func aListenerLineWithAGoodbyeNamesTheServiceAndWhenItWasHeard() throws {
        let line = "1234.500000 " + Self.hex(Self.response(instance: "Svc 7", ttl: 0))
        let goodbyes = GoodbyeListener.goodbyes(inLine: line)
        #expect(goodbyes == [GoodbyeListener.Goodbye(
            at: 1234.5, service: ServiceID(name: try InstanceName("Svc 7"), type: try ServiceType("_zfault._tcp")))])
    }

    @Test func announcementsQueriesAndNoiseHoldNoGoodbye() {
        #expect(GoodbyeListener.goodbyes(inLine: "1.0 " + Self.hex(Self.response(instance: "Svc 7", ttl: 120))).isEmpty)
        var query = Self.response(instance: "Svc 7", ttl: 0)
        query[2] = 0 // the QR bit: a query
        #expect(GoodbyeListener.goodbyes(inLine: "1.0 " + Self.hex(query)).isEmpty)
        let truncated = Array(Self.response(instance: "Svc 7", ttl: 0).dropLast(3))
        #expect(GoodbyeListener.goodbyes(inLine: "1.0 " + Self.hex(truncated)).isEmpty)
        #expect(GoodbyeListener.goodbyes(inLine: "listening").isEmpty)
        #expect(GoodbyeListener.goodbyes(inLine: "1.0 0g").isEmpty)
        #expect(GoodbyeListener.goodbyes(inLine: "1.0 abc").isEmpty)
    }

    @Test func aServiceFileEscapesWhatXMLWouldReadAsMarkup() {
        let file = ServiceFile(name: "Tom & Jerry's <Printer>", type: "_ipp._tcp", port: 631, txt: ["a=\"b\"", "n=1"])
        #expect(file.xml == """
            <?xml version="1.0" standalone='no'?>
            <!DOCTYPE service-group SYSTEM "avahi-service.dtd">
            <service-group><name>Tom &amp; Jerry&apos;s &lt;Printer&gt;</name>
            <service><type>_ipp._tcp</type><port>631</port><txt-record>a=&quot;b&quot;</txt-record><txt-record>n=1</txt-record></service></service-group>

            """)
        #expect(!ServiceFile(name: "Plain", type: "_ipp._tcp", port: 1).xml.contains("txt-record"))
    }
}
