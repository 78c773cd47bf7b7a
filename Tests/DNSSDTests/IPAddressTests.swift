import DNSSD
import PropertyBased
import Testing

/// IPv4/IPv6 addresses: inet_pton/inet_ntop text, bytes, and the scopes z2z may export.
@Suite struct IPAddressTests {
    private func address(_ text: String) throws -> IPAddress { try IPAddress(text) }

    @Test func ipv4TextParsesToItsNumber() throws {
        #expect(try address("10.0.1.11") == .v4(0x0a00_010b))
        #expect(try address("10.0.1.11").bytes == [10, 0, 1, 11])
        #expect(try address("10.0.1.11").isIPv4)
    }

    @Test func ipv6TextParsesToItsHalves() throws {
        #expect(try address("fe80::1") == .v6(0xfe80_0000_0000_0000, 1))
        #expect(try address("2001:db8::8:800:200c:417a") == .v6(0x2001_0db8_0000_0000, 0x0008_0800_200c_417a))
        #expect(try !address("::1").isIPv4)
    }

    @Test func textIsWhatInetNtopPrints() throws {
        #expect(try address("2001:0DB8:0000:0000:0000:0000:0000:0001").description == "2001:db8::1")
        #expect(IPAddress.v6(0, 0).description == "::")
        #expect(IPAddress.v6(0, 0x0000_ffff_0a00_0001).description == "::ffff:10.0.0.1")
        #expect(IPAddress.v4(0xffff_ffff).description == "255.255.255.255")
    }

    @Test func bytesOfTheWrongCountAreMalformed() {
        #expect(throws: DNSSDError.addressMalformed("5 address bytes")) { try IPAddress(bytes: [1, 2, 3, 4, 5]) }
        #expect(throws: DNSSDError.addressMalformed("0 address bytes")) { try IPAddress(bytes: []) }
    }

    @Test(arguments: ["", "10.0.0", "10.0.0.256", "10.0.0.1.", " 10.0.0.1", "010.0.0.1", "::1::", "fe80::1%eth0",
                      "host.local", "1.2.3.4/24", "gggg::1"])
    func textThatIsNoAddressIsMalformed(text: String) {
        #expect(throws: DNSSDError.addressMalformed(text)) { try IPAddress(text) }
    }

    @Test func textWithAnEmbeddedNulIsMalformed() {
        // The C parser would stop at the NUL and accept the address before it.
        #expect(throws: DNSSDError.addressMalformed("10.0.0.1\u{0}.evil")) { try IPAddress("10.0.0.1\u{0}.evil") }
        #expect(throws: DNSSDError.addressMalformed("::1\u{0}")) { try IPAddress("::1\u{0}") }
    }

    // MARK: scopes

    @Test(arguments: ["169.254.0.0", "169.254.1.2", "169.254.255.255"])
    func ipv4LinkLocalRangeIsLinkLocal(text: String) throws {
        #expect(try address(text).isLinkLocal)
        #expect(try !address(text).isRoutable)
    }

    @Test(arguments: ["169.253.255.255", "169.255.0.0", "10.0.0.1", "192.168.1.1"])
    func addressesAroundIpv4LinkLocalAreNot(text: String) throws {
        #expect(try !address(text).isLinkLocal)
    }

    @Test(arguments: ["fe80::", "fe80::1", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe9a::42"])
    func ipv6Fe80Slash10IsLinkLocal(text: String) throws {
        #expect(try address(text).isLinkLocal)
        #expect(try !address(text).isRoutable)
    }

    @Test(arguments: ["fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::", "fec0::1", "ff02::fb", "2001:db8::1", "fd00::1"])
    func addressesAroundFe80Slash10AreNotLinkLocal(text: String) throws {
        #expect(try !address(text).isLinkLocal)
    }

    @Test(arguments: ["10.0.1.11", "192.168.1.1", "8.8.8.8", "2001:db8::1", "fd12:3456::1", "fec0::1"])
    func unicastAddressesOffTheLinkAreRoutable(text: String) throws {
        #expect(try address(text).isRoutable)
    }

    @Test(arguments: ["127.0.0.1", "127.255.255.254", "::1"])
    func loopbackIsNotRoutable(text: String) throws {
        #expect(try address(text).isLoopback)
        #expect(try !address(text).isRoutable)
    }

    @Test(arguments: ["0.0.0.0", "::"])
    func unspecifiedIsNotRoutable(text: String) throws {
        #expect(try address(text).isUnspecified)
        #expect(try !address(text).isRoutable)
    }

    @Test(arguments: ["224.0.0.251", "239.255.255.250", "ff02::fb", "ff05::1:3"])
    func multicastIsNotRoutable(text: String) throws {
        #expect(try address(text).isMulticast)
        #expect(try !address(text).isRoutable)
    }

    @Test(arguments: ["240.0.0.1", "255.255.255.255"])
    func reservedAndBroadcastIPv4IsNotRoutable(text: String) throws {
        #expect(try address(text).isReservedIPv4)
        #expect(try !address(text).isRoutable)
        #expect(try !address("239.255.255.255").isReservedIPv4)
    }

    @Test func boundariesOfLoopbackAndMulticastAreExact() throws {
        #expect(try !address("126.255.255.255").isLoopback)
        #expect(try !address("128.0.0.0").isLoopback)
        #expect(try !address("223.255.255.255").isMulticast)
        #expect(try !address("240.0.0.0").isMulticast)
        #expect(try !address("::2").isLoopback)
        #expect(try !address("feff::1").isMulticast)
    }

    @Test func ipv4SortsBeforeIpv6AndThenByNumber() throws {
        let addresses = try ["fe80::1", "10.0.0.2", "::1", "10.0.0.10", "9.255.255.255"].map(address)
        #expect(addresses.sorted().map(\.description) == ["9.255.255.255", "10.0.0.2", "10.0.0.10", "::1", "fe80::1"])
    }

    @Test func randomAddressesSurviveBytesAndText() async {
        await propertyCheck(count: 2000, input: Generators.ipAddress) { address throws in
            #expect(try IPAddress(bytes: address.bytes) == address)
            #expect(try IPAddress(address.description) == address)
            #expect(address.bytes.count == (address.isIPv4 ? 4 : 16))
            if case .v4 = address {
                #expect(address.description == address.bytes.map(String.init).joined(separator: "."))
            }
        }
    }
}
