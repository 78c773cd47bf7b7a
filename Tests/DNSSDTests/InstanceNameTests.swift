import DNSSD
import PropertyBased
import Testing

/// RFC 6763 §4.1.1: an instance name is 1–63 bytes of UTF-8 without ASCII control characters.
@Suite struct InstanceNameTests {
    @Test func instanceNameOf63BytesIsAccepted() throws {
        let name = try InstanceName(String(repeating: "a", count: 63))
        #expect(name.value.utf8.count == 63)
    }

    @Test func instanceNameOf64BytesIsRefusedWithItsLength() {
        #expect(throws: DNSSDError.instanceNameTooLong(bytes: 64)) {
            try InstanceName(String(repeating: "a", count: 64))
        }
    }

    @Test func multiByteNameIsMeasuredInBytesNotCharacters() throws {
        // 21 × "€" (3 bytes each) is 63 bytes; one more "€" is 21 characters short of 63 but 66 bytes.
        _ = try InstanceName(String(repeating: "€", count: 21))
        #expect(throws: DNSSDError.instanceNameTooLong(bytes: 66)) {
            try InstanceName(String(repeating: "€", count: 22))
        }
    }

    @Test func emptyInstanceNameIsRefused() {
        #expect(throws: DNSSDError.instanceNameEmpty) { try InstanceName("") }
        #expect(throws: DNSSDError.instanceNameEmpty) { try InstanceName(bytes: []) }
    }

    @Test(arguments: [UInt8](0x00...0x1f) + [0x7f])
    func controlCharacterIsRefusedWithByteAndOffset(byte: UInt8) {
        #expect(throws: DNSSDError.instanceNameControlCharacter(byte: byte, offset: 3)) {
            try InstanceName(bytes: Array("Lab".utf8) + [byte] + Array("Printer".utf8))
        }
    }

    @Test func tabInTextIsRefusedAsControlCharacter() {
        #expect(throws: DNSSDError.instanceNameControlCharacter(byte: 0x09, offset: 2)) {
            try InstanceName("ab\tc")
        }
    }

    @Test func spacesDotsParenthesesAndAnyScriptAreAllowed() throws {
        for text in ["Lab Printer 3.1 (Raum Ä)", "a.b.c", "(x)", "\\", "日本語のプリンター", "🖨 Drucker", "  ", "."] {
            #expect(try InstanceName(text).value == text)
        }
    }

    @Test func c1ControlCharactersAreNotAsciiControlsAndAreAllowed() throws {
        // RFC 6763 §4.1.1 forbids only the ASCII controls 0x00–0x1F and 0x7F.
        #expect(try InstanceName("a\u{85}b").value == "a\u{85}b")
    }

    @Test func invalidUTF8IsRefusedWithTheOffsetOfTheFirstBadByte() {
        #expect(throws: DNSSDError.invalidUTF8(offset: 0)) { try InstanceName(bytes: [0xff]) }
        #expect(throws: DNSSDError.invalidUTF8(offset: 2)) { try InstanceName(bytes: [0x41, 0x42, 0x80]) }
        // A truncated 2-byte sequence at the end.
        #expect(throws: DNSSDError.invalidUTF8(offset: 1)) { try InstanceName(bytes: [0x41, 0xc3]) }
        // An encoded UTF-16 surrogate (ED A0 80) and an overlong '/' (C0 AF) are not UTF-8.
        #expect(throws: DNSSDError.invalidUTF8(offset: 1)) { try InstanceName(bytes: [0x41, 0xed, 0xa0, 0x80]) }
        #expect(throws: DNSSDError.invalidUTF8(offset: 3)) { try InstanceName(bytes: [0x61, 0xc3, 0xa4, 0xc0, 0xaf]) }
    }

    @Test func lengthIsCheckedBeforeEncoding() {
        #expect(throws: DNSSDError.instanceNameTooLong(bytes: 64)) {
            try InstanceName(bytes: [UInt8](repeating: 0xff, count: 64))
        }
    }

    @Test func validBytesGiveTheSameNameAsText() throws {
        let text = "Lab Printer 3.1 (Raum Ä)"
        #expect(try InstanceName(bytes: Array(text.utf8)) == InstanceName(text))
    }

    @Test func namesThatDifferOnlyInUnicodeNormalizationAreDifferentNames() throws {
        // "Café" precomposed (NFC, as macOS publishes) and decomposed (NFD) are different DNS
        // labels: two services may carry them side by side, so they must not compare equal.
        let composed = try InstanceName("Caf\u{e9}")
        let decomposed = try InstanceName("Cafe\u{301}")
        #expect(composed != decomposed)
        #expect(Set([composed, decomposed]).count == 2)
        #expect((composed < decomposed) != (decomposed < composed))
        #expect(Array(composed.canonical.utf8) != Array(decomposed.canonical.utf8))
    }

    @Test func nameKeepsItsExactBytes() throws {
        let decomposed = Array("Cafe\u{301}".utf8)
        #expect(Array(try InstanceName(bytes: decomposed).value.utf8) == decomposed)
    }

    @Test func canonicalFormFoldsOnlyAsciiLetters() throws {
        #expect(try InstanceName("Lab PRINTER Ä é").canonical == "lab printer Ä é")
    }

    @Test func orderingFollowsTheBytes() throws {
        let names = try ["b", "B", "a", "Ä", "aa"].map { try InstanceName($0) }
        #expect(names.sorted().map(\.value) == ["B", "a", "aa", "b", "Ä"])
    }

    @Test func randomValidNamesAreAcceptedFromTheirBytes() async {
        await propertyCheck(count: 1000, input: Generators.instanceName) { name throws in
            let bytes = Array(name.value.utf8)
            #expect((1...63).contains(bytes.count))
            #expect(try InstanceName(bytes: bytes) == name)
        }
    }
}
