import DNSSD
import PropertyBased
import Testing

/// TXT records: distinct keys, size limits, the receiver's reading of duplicates, wire format.
@Suite struct TXTRecordTests {
    private func entry(_ text: String) throws -> TXTEntry { try TXTEntry(string: Array(text.utf8)) }

    @Test func entriesKeepTheirOrder() throws {
        let record = try TXTRecord(["txtvers": "1", "flag": nil, "rp": "ipp/print"])
        #expect(record.entries.map(\.key) == ["txtvers", "flag", "rp"])
        #expect(record.strings == ["txtvers=1", "flag", "rp=ipp/print"].map { Array($0.utf8) })
    }

    @Test func duplicateKeyDifferingOnlyInCaseIsRefusedAtTheSecondOccurrence() throws {
        #expect(throws: DNSSDError.txtDuplicateKey(index: 2, key: "PATH")) {
            try TXTRecord(entries: [self.entry("path=/a"), self.entry("x=1"), self.entry("PATH=/b")])
        }
        #expect(throws: DNSSDError.txtDuplicateKey(index: 1, key: "flag")) {
            try TXTRecord(entries: [self.entry("Flag=1"), self.entry("flag")])
        }
    }

    @Test func lookupByKeyIgnoresAsciiCase() throws {
        let record = try TXTRecord(["Path": "/a"])
        #expect(record["PATH"]?.text == "/a")
        #expect(record["missing"] == nil)
    }

    @Test func receivingKeepsTheFirstOccurrenceAndReportsTheRest() {
        let strings = ["path=/first", "x=1", "PATH=/second", "path", "x=2"].map { Array($0.utf8) }
        let (record, dropped) = TXTRecord.receiving(strings)
        #expect(record.strings == ["path=/first", "x=1"].map { Array($0.utf8) })
        #expect(dropped == [.txtDuplicateKey(index: 2, key: "PATH"), .txtDuplicateKey(index: 3, key: "path"),
                            .txtDuplicateKey(index: 4, key: "x")])
    }

    @Test func receivingDropsInvalidStringsWithTheirReasonAndSkipsEmptyOnes() {
        let strings: [[UInt8]] = [[], Array("=orphan".utf8), [0x80, 0x3d, 0x31], Array("ok=1".utf8),
                                  [UInt8](repeating: 0x61, count: 256)]
        let (record, dropped) = TXTRecord.receiving(strings)
        #expect(record.strings == [Array("ok=1".utf8)])
        #expect(dropped == [.txtKeyEmpty(index: 1), .txtKeyInvalidByte(index: 2, byte: 0x80),
                            .txtStringTooLong(index: 4, bytes: 256)])
    }

    @Test func receivingAnEmptyRecordGivesNoEntriesAndNoComplaints() {
        let (record, dropped) = TXTRecord.receiving([[]])
        #expect(record.isEmpty)
        #expect(dropped.isEmpty)
    }

    @Test func receivingStopsAcceptingStringsPastTheMaximumWireSize() throws {
        // 34 strings of 255 bytes are 34 × 256 = 8704 bytes; a 196-byte string would make 8901.
        let big = (0..<34).map { Array("k\($0)=".utf8) + [UInt8](repeating: 0x41, count: 253 - "\($0)".utf8.count) }
        let overflow = Array("z=".utf8) + [UInt8](repeating: 0x42, count: 194)
        let fits = Array("y=".utf8) + [UInt8](repeating: 0x43, count: 193)
        let (record, dropped) = TXTRecord.receiving(big + [overflow, fits])
        #expect(record.entries.count == 35)
        #expect(record.wireSize == TXTRecord.maximumWireSize)
        #expect(dropped == [.txtTooLarge(bytes: 8901)])
    }

    @Test func recordOverTheMaximumWireSizeIsRefusedWithItsSize() throws {
        let full = try (0..<34).map { try TXTEntry(key: "k\($0)", value: [UInt8](repeating: 0, count: 254 - "k\($0)".utf8.count)) }
        #expect(full.allSatisfy { $0.string.count == 255 })
        let atLimit = try TXTRecord(entries: full + [TXTEntry(key: "y", value: [UInt8](repeating: 0, count: 193))])
        #expect(atLimit.wireSize == TXTRecord.maximumWireSize)
        #expect(throws: DNSSDError.txtTooLarge(bytes: 8901)) {
            try TXTRecord(entries: full + [TXTEntry(key: "y", value: [UInt8](repeating: 0, count: 194))])
        }
    }

    @Test func wireFormatIsLengthPrefixedStrings() throws {
        let record = try TXTRecord(entries: [TXTEntry(key: "bin", value: [0x01, 0xff, 0x80, 0x22, 0x5c]),
                                             entry("flag"), entry("a=b")])
        #expect(record.wireFormat == [9, 0x62, 0x69, 0x6e, 0x3d, 0x01, 0xff, 0x80, 0x22, 0x5c,
                                      4, 0x66, 0x6c, 0x61, 0x67,
                                      3, 0x61, 0x3d, 0x62])
        #expect(record.wireSize == record.wireFormat.count)
    }

    @Test func emptyRecordIsOneEmptyStringOnTheWire() throws {
        // RFC 6763 §6.1: a TXT record holds at least one string.
        #expect(TXTRecord.empty.wireFormat == [0])
        #expect(TXTRecord.empty.wireSize == 1)
        #expect(try TXTRecord(wireFormat: [0]) == .empty)
        #expect(try TXTRecord(wireFormat: []) == .empty)
    }

    @Test func emptyStringsBetweenEntriesAreSkipped() throws {
        let record = try TXTRecord(wireFormat: [0, 1, 0x61, 0, 3, 0x62, 0x3d, 0x63])
        #expect(record.strings == [[0x61], Array("b=c".utf8)])
    }

    @Test func wireFormatEndingInsideAStringIsTruncatedAtThatStringsOffset() {
        #expect(throws: DNSSDError.txtWireTruncated(offset: 0)) { try TXTRecord(wireFormat: [5, 0x61, 0x62]) }
        #expect(throws: DNSSDError.txtWireTruncated(offset: 2)) { try TXTRecord(wireFormat: [1, 0x61, 2, 0x62]) }
        #expect(throws: DNSSDError.txtWireTruncated(offset: 0)) { try TXTRecord(wireFormat: [255]) }
    }

    @Test func wireFormatWithARepeatedKeyIsRefusedStrictly() {
        #expect(throws: DNSSDError.txtDuplicateKey(index: 1, key: "A")) {
            try TXTRecord(wireFormat: [3, 0x61, 0x3d, 0x31, 1, 0x41])
        }
    }

    @Test func wireFormatWithABadKeyNamesTheStringIndex() {
        #expect(throws: DNSSDError.txtKeyEmpty(index: 2)) { try TXTRecord(wireFormat: [1, 0x61, 0, 2, 0x3d, 0x31]) }
    }

    @Test func randomRecordsSurviveTheWireFormat() async {
        await propertyCheck(count: 1000, input: Generators.txtRecord) { record throws in
            let decoded = try TXTRecord(wireFormat: record.wireFormat)
            #expect(decoded == record)
            #expect(decoded.strings == record.strings)
            #expect(record.wireFormat.count == record.wireSize)
        }
    }

    @Test func receivingAValidRecordsStringsGivesTheSameRecordAndNoComplaints() async {
        await propertyCheck(count: 1000, input: Generators.txtRecord) { record throws in
            let (received, dropped) = TXTRecord.receiving(record.strings)
            #expect(received == record)
            #expect(dropped.isEmpty)
        }
    }
}
