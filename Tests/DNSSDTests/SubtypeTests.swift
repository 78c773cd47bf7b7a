import DNSSD
import Testing

/// RFC 6763 §7.1 subtype labels and their `_sub` browse names.
@Suite struct SubtypeTests {
    @Test func subtypeHasABrowsableFullNameAndParsesBack() throws {
        let http = try ServiceType("_http._tcp")
        let printer = try Subtype("_printer")
        #expect(printer.fullName(of: http) == "_printer._sub._http._tcp")
        #expect(try Subtype(fullName: "_printer._sub._http._tcp", of: http) == printer)
    }

    @Test func fullNameOfAnotherTypeIsMalformed() throws {
        let ipp = try ServiceType("_ipp._tcp")
        #expect(throws: DNSSDError.serviceTypeMalformed("_printer._sub._http._tcp")) {
            try Subtype(fullName: "_printer._sub._http._tcp", of: ipp)
        }
    }

    @Test func fullNameWithNothingBeforeSubIsEmpty() throws {
        let ipp = try ServiceType("_ipp._tcp")
        #expect(throws: DNSSDError.subtypeEmpty) { try Subtype(fullName: "._sub._ipp._tcp", of: ipp) }
    }

    @Test func emptySubtypeIsRefused() {
        #expect(throws: DNSSDError.subtypeEmpty) { try Subtype("") }
    }

    @Test func subtypeOf63BytesIsAcceptedAnd64Refused() throws {
        _ = try Subtype(String(repeating: "s", count: 63))
        #expect(throws: DNSSDError.subtypeTooLong(bytes: 64)) { try Subtype(String(repeating: "s", count: 64)) }
    }

    @Test func subtypeWithControlCharacterIsRefused() {
        #expect(throws: DNSSDError.subtypeControlCharacter(byte: 0x0a)) { try Subtype("_a\nb") }
        #expect(throws: DNSSDError.subtypeControlCharacter(byte: 0x7f)) { try Subtype("_a\u{7f}") }
    }

    @Test func subtypeMayHoldSpacesAndUnicode() throws {
        #expect(try Subtype("Drucker Ä").label == "Drucker Ä")
    }
}
