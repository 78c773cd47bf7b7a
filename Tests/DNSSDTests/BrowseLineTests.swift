import DNSSD
import PropertyBased
import Testing

/// `avahi-browse -p` lines, checked against output captured from avahi-browse 0.8 for
/// `avahi-publish -s "Lab Printer 3.1 (Raum Ä)" _ipp._tcp 631 "bin=<01 ff 80 22 5c>" "flag" "a=b"`.
@Suite struct BrowseLineTests {
    static let addedLine = #"+;eth0;IPv4;Lab\032Printer\0323\.1\032\040Raum\032\195\132\041;_ipp._tcp;local"#
    static let resolvedLine = #"=;eth0;IPv4;Lab\032Printer\0323\.1\032\040Raum\032\195\132\041;_ipp._tcp;local;tbp-host1.local;10.0.1.11;631;"a=b" "flag" "bin=\001\255\128\"\\""#

    private func labPrinterID() throws -> ServiceID {
        ServiceID(name: try InstanceName("Lab Printer 3.1 (Raum Ä)"), type: try ServiceType("_ipp._tcp"), domain: .local)
    }

    @Test func capturedAddedLineParsesIntoItsFields() throws {
        let line = try BrowseLine(parsing: Self.addedLine)
        #expect(line.kind == .added)
        #expect(line.interface == "eth0")
        #expect(line.protocolName == "IPv4")
        #expect(line.id == (try labPrinterID()))
        #expect(Array(line.id.name.value.utf8) == Array("Lab Printer 3.1 (Raum Ä)".utf8))
        #expect(line.resolution == nil)
    }

    @Test func capturedResolvedLineParsesIntoItsFields() throws {
        let line = try BrowseLine(parsing: Self.resolvedLine)
        #expect(line.kind == .resolved)
        #expect(line.interface == "eth0")
        #expect(line.protocolName == "IPv4")
        #expect(line.id == (try labPrinterID()))
        let resolution = try #require(line.resolution)
        #expect(resolution.host == (try HostName("tbp-host1.local")))
        #expect(resolution.address == .v4(0x0a00_010b))
        #expect(resolution.port == 631)
        // Wire order is bin, flag, a=b: avahi-browse printed it reversed.
        #expect(resolution.txt.entries.map(\.key) == ["bin", "flag", "a"])
        #expect(resolution.txt["bin"]?.value == [0x01, 0xff, 0x80, 0x22, 0x5c])
        #expect(resolution.txt["flag"] == (try TXTEntry(key: "flag", value: nil)))
        #expect(resolution.txt["a"]?.text == "b")
    }

    @Test func capturedLinesAreFormattedBackExactly() throws {
        let id = try labPrinterID()
        let added = BrowseLine(kind: .added, interface: "eth0", protocolName: "IPv4", id: id)
        #expect(added.description == Self.addedLine)
        let txt = try TXTRecord(entries: [TXTEntry(key: "bin", value: [0x01, 0xff, 0x80, 0x22, 0x5c]),
                                          TXTEntry(key: "flag", value: nil), TXTEntry(key: "a", text: "b")])
        let resolved = BrowseLine(kind: .resolved, interface: "eth0", protocolName: "IPv4", id: id,
                                  resolution: .init(host: try HostName("tbp-host1.local"), address: .v4(0x0a00_010b),
                                                    port: 631, txt: txt))
        #expect(resolved.description == Self.resolvedLine)
        #expect(try BrowseLine(parsing: Self.resolvedLine).description == Self.resolvedLine)
    }

    @Test func removedLineHasTheBrowseFieldsOnly() throws {
        let line = try BrowseLine(parsing: #"-;wlan0;IPv6;Kitchen;_airplay._tcp;local"#)
        #expect(line.kind == .removed)
        #expect(line.protocolName == "IPv6")
        #expect(line.id.name.value == "Kitchen")
        #expect(line.description == #"-;wlan0;IPv6;Kitchen;_airplay._tcp;local"#)
    }

    @Test func resolvedLineWithAnEmptyTXTRecordEndsInASemicolon() throws {
        let text = #"=;eth0;IPv6;NAS;_smb._tcp;local;nas.local;fe80::1;445;"#
        let line = try BrowseLine(parsing: text)
        #expect(line.resolution?.txt == .empty)
        #expect(line.resolution?.address == (try IPAddress("fe80::1")))
        #expect(line.description == text)
    }

    @Test func semicolonsInsideTheTXTFieldBelongToIt() throws {
        let text = #"=;eth0;IPv4;x;_http._tcp;local;h.local;10.0.0.1;80;"path=/a;b" "q=;;""#
        let line = try BrowseLine(parsing: text)
        #expect(line.resolution?.txt.strings == ["q=;;", "path=/a;b"].map { Array($0.utf8) })
        #expect(line.description == text)
    }

    // MARK: malformed lines

    @Test(arguments: [
        "",
        "+;eth0;IPv4;x;_ipp._tcp",                                        // too few fields
        "+;eth0;IPv4;x;_ipp._tcp;local;extra",                            // between browse and resolve
        "+;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0.1;631;",            // '+' with resolve fields
        "=;eth0;IPv4;x;_ipp._tcp;local",                                  // '=' without them
        "*;eth0;IPv4;x;_ipp._tcp;local",                                  // unknown kind
        "++;eth0;IPv4;x;_ipp._tcp;local",                                 // kind of two characters
        ";eth0;IPv4;x;_ipp._tcp;local",                                   // no kind
        "=;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0.1;http;",           // port not a number
        "=;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0.1;65536;",          // port out of range
        "=;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0.1;-1;",             // negative port
        "=;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0.1;+631;",           // a sign avahi never prints
        "=;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0.1; 631;",           // padding avahi never prints
        "=;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0.1;;",               // empty port
    ])
    func lineWithWrongShapeIsMalformed(text: String) {
        #expect(throws: DNSSDError.parsableLineMalformed(text)) { try BrowseLine(parsing: text) }
    }

    @Test func badFieldsAreRefusedWithTheFieldsOwnReason() {
        #expect(throws: DNSSDError.escapeMalformed(text: #"Lab\25"#, offset: 3)) {
            try BrowseLine(parsing: #"+;eth0;IPv4;Lab\25;_ipp._tcp;local"#)
        }
        #expect(throws: DNSSDError.invalidUTF8(offset: 1)) {
            try BrowseLine(parsing: #"+;eth0;IPv4;a\255;_ipp._tcp;local"#)
        }
        #expect(throws: DNSSDError.instanceNameControlCharacter(byte: 0x0a, offset: 1)) {
            try BrowseLine(parsing: #"+;eth0;IPv4;a\010;_ipp._tcp;local"#)
        }
        #expect(throws: DNSSDError.instanceNameEmpty) { try BrowseLine(parsing: "+;eth0;IPv4;;_ipp._tcp;local") }
        #expect(throws: DNSSDError.serviceNameInvalidCharacter("_")) {
            try BrowseLine(parsing: "+;eth0;IPv4;x;_nvstream_dbd._tcp;local")
        }
        #expect(throws: DNSSDError.nameEmpty) { try BrowseLine(parsing: "+;eth0;IPv4;x;_ipp._tcp;") }
        #expect(throws: DNSSDError.addressMalformed("10.0.0")) {
            try BrowseLine(parsing: "=;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0;631;")
        }
        #expect(throws: DNSSDError.escapeMalformed(text: #""a=b"#, offset: 4)) {
            try BrowseLine(parsing: #"=;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0.1;631;"a=b"#)
        }
    }

    @Test func badTXTStringIsRefusedWithItsWireIndex() {
        // Printed order is reversed: "=v" is the first printed string and so the last on the wire.
        #expect(throws: DNSSDError.txtKeyEmpty(index: 1)) {
            try BrowseLine(parsing: #"=;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0.1;631;"=v" "a=1""#)
        }
        #expect(throws: DNSSDError.txtDuplicateKey(index: 1, key: "a")) {
            try BrowseLine(parsing: #"=;eth0;IPv4;x;_ipp._tcp;local;h.local;10.0.0.1;631;"a=1" "A=2""#)
        }
    }

    @Test func randomLinesSurviveFormattingAndParsing() async {
        await propertyCheck(count: 1500, input: Generators.browseLine) { line throws in
            let text = line.description
            let parsed = try BrowseLine(parsing: text)
            #expect(parsed == line)
            #expect(Array(parsed.id.name.value.utf8) == Array(line.id.name.value.utf8))
            #expect(parsed.resolution?.txt.strings == line.resolution?.txt.strings)
            #expect(parsed.description == text)
            #expect(!text.contains("\n"))
        }
    }
}
