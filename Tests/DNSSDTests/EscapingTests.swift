import DNSSD
import PropertyBased
import Testing

/// `AvahiEscaping` must print exactly what avahi-common's `avahi_escape_label` and
/// `avahi_string_list_to_string` print, and read its own output back without loss.
@Suite struct EscapingTests {
    // MARK: labels

    @Test func labelEscapingMatchesAvahiBrowseForTheLabPrinter() {
        #expect(AvahiEscaping.escapeLabel("Lab Printer 3.1 (Raum Ä)")
            == #"Lab\032Printer\0323\.1\032\040Raum\032\195\132\041"#)
    }

    @Test func dotAndBackslashGetABackslash() {
        #expect(AvahiEscaping.escapeLabel(#"a.b\c"#) == #"a\.b\\c"#)
    }

    @Test func lettersDigitsHyphenAndUnderscoreStayAsTheyAre() {
        let plain = "abcxyzABCXYZ0189-_"
        #expect(AvahiEscaping.escapeLabel(plain) == plain)
    }

    @Test func everyOtherByteBecomesThreeDecimalDigits() {
        #expect(AvahiEscaping.escapeLabel("\u{0}") == #"\000"#)
        #expect(AvahiEscaping.escapeLabel(";") == #"\059"#)
        #expect(AvahiEscaping.escapeLabel("~\u{7f}") == #"\126\127"#)
        #expect(AvahiEscaping.escapeLabel("🖨") == #"\240\159\150\168"#)
    }

    @Test func decimalEscapesAndBackslashedCharactersUnescape() throws {
        #expect(try AvahiEscaping.unescapeLabel(#"Lab\032Printer\0323\.1\032\040Raum\032\195\132\041"#)
            == Array("Lab Printer 3.1 (Raum Ä)".utf8))
        #expect(try AvahiEscaping.unescapeLabel(#"\255\000\\\;x"#) == [0xff, 0x00, 0x5c, 0x3b, 0x78])
        #expect(try AvahiEscaping.unescapeLabel("") == [])
    }

    @Test func trailingBackslashIsMalformedAtItsOffset() {
        #expect(throws: DNSSDError.escapeMalformed(text: #"abc\"#, offset: 3)) {
            try AvahiEscaping.unescapeLabel(#"abc\"#)
        }
    }

    @Test(arguments: [#"\25"#, #"\2"#, #"\2a5"#, #"\25x"#, #"\256"#, #"\999"#])
    func shortOrOutOfRangeDecimalEscapeIsMalformed(escape: String) {
        let text = "ab" + escape
        #expect(throws: DNSSDError.escapeMalformed(text: text, offset: 2)) { try AvahiEscaping.unescapeLabel(text) }
    }

    @Test func largestDecimalEscapeIs255() throws {
        #expect(try AvahiEscaping.unescapeLabel(#"\255"#) == [255])
    }

    @Test func randomInstanceNamesSurviveLabelEscaping() async {
        await propertyCheck(count: 2000, input: Generators.instanceName) { name throws in
            let escaped = AvahiEscaping.escapeLabel(name.value)
            #expect(try AvahiEscaping.unescapeLabel(escaped) == Array(name.value.utf8))
            #expect(try InstanceName(bytes: AvahiEscaping.unescapeLabel(escaped)) == name)
        }
    }

    @Test func escapedLabelsHoldNoFieldOrLabelSeparators() async {
        // avahi-browse -p splits on ';' and DNS presentation on unescaped '.', so an escaped
        // label may only hold letters, digits, '-', '_', and backslash escapes.
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_\\.".utf8)
        await propertyCheck(count: 1000, input: Generators.instanceName) { name throws in
            let escaped = Array(AvahiEscaping.escapeLabel(name.value).utf8)
            #expect(escaped.allSatisfy(allowed.contains))
            for (index, byte) in escaped.enumerated() where byte == UInt8(ascii: ".") {
                #expect(index > 0 && escaped[index - 1] == UInt8(ascii: "\\"))
            }
        }
    }

    // MARK: TXT strings

    private func labPrinterTXT() throws -> TXTRecord {
        try TXTRecord(entries: [TXTEntry(key: "bin", value: [0x01, 0xff, 0x80, 0x22, 0x5c]),
                                TXTEntry(key: "flag", value: nil), TXTEntry(key: "a", text: "b")])
    }

    @Test func txtQuotingMatchesAvahiBrowseIncludingItsReversedOrder() throws {
        #expect(AvahiEscaping.quoteTXT(try labPrinterTXT()) == #""a=b" "flag" "bin=\001\255\128\"\\""#)
    }

    @Test func quotedTXTUnquotesToWireOrder() throws {
        let strings = try AvahiEscaping.unquoteTXT(#""a=b" "flag" "bin=\001\255\128\"\\""#)
        #expect(strings == (try labPrinterTXT()).strings)
    }

    @Test func emptyTXTRecordQuotesAsNothing() throws {
        #expect(AvahiEscaping.quoteTXT(.empty) == "")
        #expect(try AvahiEscaping.unquoteTXT("") == [])
    }

    @Test func spacesSemicolonsAndTildeArePrintedAsThemselvesInsideQuotes() throws {
        let record = try TXTRecord(["note": "a b;c~"])
        #expect(AvahiEscaping.quoteTXT(record) == #""note=a b;c~""#)
    }

    @Test func controlAndHighBytesAreDecimalEscaped() throws {
        let record = try TXTRecord(entries: [TXTEntry(key: "v", value: [0x00, 0x1f, 0x20, 0x7e, 0x80, 0xc3, 0xa4, 0xff])])
        #expect(AvahiEscaping.quoteTXT(record) == #""v=\000\031 ~\128\195\164\255""#)
    }

    @Test func deleteIsPrintedAsTheRawByteAsAvahi08PrintsIt() throws {
        // avahi 0.8 (Debian 12, x86) escapes only bytes that are negative or below 32 as a
        // signed char; measured on this machine: "a<7f>b" prints as "a<7f>b".
        let record = try TXTRecord(entries: [TXTEntry(key: "v", value: [0x61, 0x7f, 0x62])])
        #expect(Array(AvahiEscaping.quoteTXT(record).utf8) == [0x22, 0x76, 0x3d, 0x61, 0x7f, 0x62, 0x22])
    }

    @Test func deleteReadsBackRawOrEscaped() throws {
        // avahi 0.9 prints DEL as \127; both forms mean the same byte.
        #expect(try AvahiEscaping.unquoteTXT("\"v=a\u{7f}b\"") == [[0x76, 0x3d, 0x61, 0x7f, 0x62]])
        #expect(try AvahiEscaping.unquoteTXT(#""v=a\127b""#) == [[0x76, 0x3d, 0x61, 0x7f, 0x62]])
    }

    @Test func unclosedQuoteIsMalformedAtTheEnd() {
        let text = #""a=b" "flag"#
        #expect(throws: DNSSDError.escapeMalformed(text: text, offset: text.utf8.count)) {
            try AvahiEscaping.unquoteTXT(text)
        }
    }

    @Test func escapedClosingQuoteDoesNotCloseTheString() {
        let text = #""a=\""#
        #expect(throws: DNSSDError.escapeMalformed(text: text, offset: 5)) { try AvahiEscaping.unquoteTXT(text) }
    }

    @Test func textOutsideQuotesIsMalformedWhereItStarts() {
        #expect(throws: DNSSDError.escapeMalformed(text: "a=b", offset: 0)) { try AvahiEscaping.unquoteTXT("a=b") }
        #expect(throws: DNSSDError.escapeMalformed(text: #""a" b"#, offset: 4)) { try AvahiEscaping.unquoteTXT(#""a" b"#) }
    }

    @Test(arguments: [#""v=\25""#, #""v=\2""#, #""v=\256""#, #""v=\"#])
    func malformedEscapeInsideQuotesIsMalformedAtTheBackslash(text: String) {
        #expect(throws: DNSSDError.escapeMalformed(text: text, offset: 3)) { try AvahiEscaping.unquoteTXT(text) }
    }

    @Test func randomTXTRecordsSurviveQuoting() async {
        await propertyCheck(count: 2000, input: Generators.txtRecord) { record throws in
            let quoted = AvahiEscaping.quoteTXT(record)
            #expect(try AvahiEscaping.unquoteTXT(quoted) == record.strings)
            // ASCII without controls (DEL aside, which avahi 0.8 prints raw): the quoted form
            // never breaks a line-based pipe.
            #expect(quoted.utf8.allSatisfy { (0x20...0x7f).contains($0) })
        }
    }
}
