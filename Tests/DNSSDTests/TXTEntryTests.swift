import DNSSD
import Testing

/// One `key[=value]` TXT string (RFC 6763 §6.3–6.5).
@Suite struct TXTEntryTests {
    @Test func keyWithoutEqualsIsABooleanAttribute() throws {
        let flag = try TXTEntry(string: Array("flag".utf8))
        #expect(flag.key == "flag")
        #expect(flag.value == nil)
        #expect(flag.string == Array("flag".utf8))
    }

    @Test func keyWithEqualsAndNothingAfterHasAnEmptyValue() throws {
        let empty = try TXTEntry(string: Array("note=".utf8))
        #expect(empty.value == [])
        #expect(empty.text == "")
        #expect(empty.string == Array("note=".utf8))
        #expect(empty != (try TXTEntry(key: "note", value: nil)))
    }

    @Test func valueIsEverythingAfterTheFirstEquals() throws {
        let entry = try TXTEntry(string: Array("a=b=c=".utf8))
        #expect(entry.key == "a")
        #expect(entry.text == "b=c=")
    }

    @Test func binaryValueIsCarriedByteForByte() throws {
        let value: [UInt8] = [0x00, 0x01, 0xff, 0x80, 0x22, 0x5c, 0x3d, 0x0a]
        let entry = try TXTEntry(key: "bin", value: value)
        #expect(entry.value == value)
        #expect(entry.text == nil)
        #expect(try TXTEntry(string: entry.string) == entry)
    }

    @Test func stringOf255BytesIsAcceptedAnd256Refused() throws {
        _ = try TXTEntry(string: Array("k=".utf8) + [UInt8](repeating: 0x41, count: 253))
        #expect(throws: DNSSDError.txtStringTooLong(index: 4, bytes: 256)) {
            try TXTEntry(string: Array("k=".utf8) + [UInt8](repeating: 0x41, count: 254), index: 4)
        }
    }

    @Test func keyAndValueAreMeasuredTogetherWithTheEquals() throws {
        _ = try TXTEntry(key: String(repeating: "k", count: 100), value: [UInt8](repeating: 0, count: 154))
        #expect(throws: DNSSDError.txtStringTooLong(index: 0, bytes: 256)) {
            try TXTEntry(key: String(repeating: "k", count: 100), value: [UInt8](repeating: 0, count: 155))
        }
        #expect(throws: DNSSDError.txtStringTooLong(index: 0, bytes: 256)) {
            try TXTEntry(key: String(repeating: "k", count: 256), value: nil)
        }
    }

    @Test func emptyStringIsRefused() {
        #expect(throws: DNSSDError.txtStringEmpty(index: 2)) { try TXTEntry(string: [], index: 2) }
    }

    @Test func stringStartingWithEqualsHasAnEmptyKey() {
        #expect(throws: DNSSDError.txtKeyEmpty(index: 1)) { try TXTEntry(string: Array("=value".utf8), index: 1) }
        #expect(throws: DNSSDError.txtKeyEmpty(index: 0)) { try TXTEntry(key: "", value: [1]) }
    }

    @Test func equalsCannotBePartOfAKeyBuiltFromParts() {
        // From the wire the first '=' ends the key, so only a key given separately can hold one.
        #expect(throws: DNSSDError.txtKeyInvalidByte(index: 0, byte: 0x3d)) { try TXTEntry(key: "a=b", text: "c") }
    }

    @Test(arguments: [UInt8(0x7f), 0x80, 0xff, 0x00, 0x1f])
    func keyByteOutsidePrintableAsciiIsRefused(byte: UInt8) {
        #expect(throws: DNSSDError.txtKeyInvalidByte(index: 3, byte: byte)) {
            try TXTEntry(string: [0x6b, byte, 0x3d, 0x76], index: 3)
        }
    }

    @Test func nonAsciiKeyTextIsRefusedAtItsFirstByte() {
        #expect(throws: DNSSDError.txtKeyInvalidByte(index: 0, byte: 0xc3)) { try TXTEntry(key: "Ä", text: nil) }
    }

    @Test func keysMayHoldSpacesAndPunctuation() throws {
        // Printable US-ASCII is 0x20–0x7E, space and '~' included (RFC 6763 §6.4).
        #expect(try TXTEntry(string: Array(" ~\"\\;=x".utf8)).key == " ~\"\\;")
    }

    @Test func textValueIsTheUTF8Reading() throws {
        #expect(try TXTEntry(key: "note", text: "Raum Ä").text == "Raum Ä")
        #expect(try TXTEntry(key: "flag", text: nil).text == nil)
    }
}
