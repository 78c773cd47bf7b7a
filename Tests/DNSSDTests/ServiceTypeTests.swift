import DNSSD
import PropertyBased
import Testing

/// RFC 6763 §7 service types with RFC 6335 §5.1 service names.
@Suite struct ServiceTypeTests {
    @Test func tcpAndUdpTypesParseIntoNameAndTransport() throws {
        let ipp = try ServiceType("_ipp._tcp")
        #expect(ipp.name == "ipp")
        #expect(ipp.transport == .tcp)
        #expect(ipp.description == "_ipp._tcp")
        #expect(try ServiceType("_sleep-proxy._udp").transport == .udp)
    }

    @Test func trailingDotIsTolerated() throws {
        #expect(try ServiceType("_http._tcp.") == ServiceType("_http._tcp"))
    }

    @Test func transportLabelIsCaseInsensitive() throws {
        #expect(try ServiceType("_ipp._TCP").transport == .tcp)
        #expect(try ServiceType("_ipp._Udp").description == "_ipp._udp")
    }

    @Test func nameOf15CharactersIsAccepted() throws {
        #expect(try ServiceType("_abcdefghijklmno._tcp").name.count == 15)
    }

    @Test func nameOf16CharactersIsRefusedWithItsLength() {
        #expect(throws: DNSSDError.serviceNameTooLong(characters: 16)) {
            try ServiceType("_abcdefghijklmnop._tcp")
        }
    }

    @Test func underscoreInsideNameIsRefusedAsInvalidCharacter() {
        #expect(throws: DNSSDError.serviceNameInvalidCharacter("_")) { try ServiceType("_nvstream_dbd._tcp") }
    }

    @Test func nonAsciiLetterIsRefusedAsInvalidCharacter() {
        #expect(throws: DNSSDError.serviceNameInvalidCharacter("é")) { try ServiceType("_caf\u{e9}._tcp") }
        #expect(throws: DNSSDError.serviceNameInvalidCharacter(" ")) { try ServiceType(name: "a b", transport: .tcp) }
    }

    @Test(arguments: ["-ipp", "ipp-", "ip--p", "-a-"])
    func misplacedHyphenIsRefused(name: String) {
        #expect(throws: DNSSDError.serviceNameHyphenPlacement) { try ServiceType(name: name, transport: .tcp) }
    }

    @Test func singleInnerHyphensAreAllowed() throws {
        #expect(try ServiceType("_a-b-c._tcp").name == "a-b-c")
    }

    @Test func digitsOnlyNameIsRefusedForLackingALetter() {
        #expect(throws: DNSSDError.serviceNameNoLetter) { try ServiceType("_1234._tcp") }
        #expect(throws: DNSSDError.serviceNameNoLetter) { try ServiceType(name: "1-2", transport: .udp) }
    }

    @Test func digitsWithOneLetterAreAllowed() throws {
        #expect(try ServiceType("_9p2000x._tcp").name == "9p2000x")
    }

    @Test func emptyNameIsRefused() {
        #expect(throws: DNSSDError.serviceNameEmpty) { try ServiceType("_._tcp") }
        #expect(throws: DNSSDError.serviceNameEmpty) { try ServiceType(name: "", transport: .tcp) }
    }

    @Test(arguments: ["_ipp._sctp", "_ipp._", "_ipp._tcpx", "_ipp._tc"])
    func unknownTransportIsRefusedWithTheLabel(text: String) {
        let label = String(text.split(separator: ".", omittingEmptySubsequences: false)[1])
        #expect(throws: DNSSDError.transportInvalid(label)) { try ServiceType(text) }
    }

    @Test(arguments: ["", "ipp._tcp", "_ipp.tcp", "_ipp", "_ipp._tcp.local", "_ipp..tcp", ".", "_ipp._tcp..",
                      "_printer._sub._ipp._tcp"])
    func textNotOfTheFormUnderscoreNameDotTransportIsMalformed(text: String) {
        #expect(throws: DNSSDError.serviceTypeMalformed(text)) { try ServiceType(text) }
    }

    @Test func typesSortByTheirText() throws {
        let types = try ["_ipp._tcp", "_http._tcp", "_ipp._udp", "_airplay._tcp"].map { try ServiceType($0) }
        #expect(types.sorted().map(\.description) == ["_airplay._tcp", "_http._tcp", "_ipp._tcp", "_ipp._udp"])
    }

    @Test func randomValidTypesSurviveTextRoundTrip() async {
        await propertyCheck(count: 1000, input: Generators.serviceType) { type throws in
            #expect(try ServiceType(type.description) == type)
        }
    }
}
