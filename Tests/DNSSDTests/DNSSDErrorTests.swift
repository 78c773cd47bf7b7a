import DNSSD
import Testing

/// Rejection reasons are stable codes for logs and metric labels.
@Suite struct DNSSDErrorTests {
    static let oneOfEach: [DNSSDError] = [
        .instanceNameEmpty, .instanceNameTooLong(bytes: 64), .instanceNameControlCharacter(byte: 0x0a, offset: 2),
        .invalidUTF8(offset: 1), .serviceTypeMalformed("ipp"), .serviceNameEmpty, .serviceNameTooLong(characters: 16),
        .serviceNameInvalidCharacter("_"), .serviceNameNoLetter, .serviceNameHyphenPlacement, .transportInvalid("_sctp"),
        .subtypeEmpty, .subtypeTooLong(bytes: 64), .subtypeControlCharacter(byte: 0x7f), .nameEmpty,
        .labelEmpty(name: "a..b"), .labelTooLong(label: "x", bytes: 64), .nameTooLong(bytes: 254),
        .nameControlCharacter(byte: 0), .txtStringTooLong(index: 0, bytes: 256), .txtStringEmpty(index: 0),
        .txtKeyEmpty(index: 0), .txtKeyInvalidByte(index: 0, byte: 0x80), .txtDuplicateKey(index: 1, key: "a"),
        .txtTooLarge(bytes: 8901), .txtWireTruncated(offset: 0), .addressMalformed("x"),
        .escapeMalformed(text: #"\"#, offset: 0), .parsableLineMalformed(""),
    ]

    @Test func everyCaseHasItsOwnReasonCode() {
        let reasons = Self.oneOfEach.map(\.reason)
        #expect(Set(reasons).count == reasons.count)
    }

    @Test func reasonCodesAreSnakeCaseMetricLabels() {
        for error in Self.oneOfEach {
            #expect(!error.reason.isEmpty)
            #expect(error.reason.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f },
                    "\(error)")
            #expect(error.reason.first?.isLetter == true && error.reason.last != "_")
        }
    }

    @Test func descriptionsCarryTheDetails() {
        #expect(DNSSDError.instanceNameTooLong(bytes: 64).description.contains("64"))
        #expect(DNSSDError.instanceNameControlCharacter(byte: 0x0a, offset: 2).description.contains("0x0a"))
        #expect(DNSSDError.txtKeyInvalidByte(index: 3, byte: 0xff).description.contains("0xff"))
        #expect(DNSSDError.txtDuplicateKey(index: 1, key: "path").description.contains("'path'"))
        #expect(DNSSDError.transportInvalid("_sctp").description.contains("_sctp"))
    }
}
