import DNSSD
import Testing

/// Domain and host names: labels of 1–63 bytes, at most 253 bytes in all, no control characters.
@Suite struct DomainNameTests {
    @Test func hostNameKeepsItsLabelsAndDropsTheTrailingDot() throws {
        let host = try HostName("tbp-host1.local.")
        #expect(host.value == "tbp-host1.local")
        #expect(host.labels == ["tbp-host1", "local"])
        #expect(host == (try HostName("tbp-host1.local")))
    }

    @Test func localIsTheDefaultDomain() throws {
        #expect(DomainName.local == (try DomainName("local")))
    }

    @Test func emptyNameIsRefused() {
        #expect(throws: DNSSDError.nameEmpty) { try DomainName("") }
    }

    @Test(arguments: ["a..local", ".local", "local..", "."])
    func emptyLabelIsRefused(text: String) {
        #expect(throws: DNSSDError.labelEmpty(name: text)) { try DomainName(text) }
    }

    @Test func labelOf63BytesIsAcceptedAnd64Refused() throws {
        let label63 = String(repeating: "h", count: 63)
        _ = try DomainName("\(label63).local")
        #expect(throws: DNSSDError.labelTooLong(label: label63 + "h", bytes: 64)) {
            try DomainName("\(label63)h.local")
        }
    }

    @Test func nameOf253BytesIsAcceptedAnd254Refused() throws {
        let label = String(repeating: "a", count: 63)
        let name253 = [label, label, label, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(name253.utf8.count == 253)
        _ = try DomainName(name253)
        #expect(throws: DNSSDError.nameTooLong(bytes: 254)) { try DomainName(name253 + "b") }
    }

    @Test func controlCharacterIsRefused() {
        #expect(throws: DNSSDError.nameControlCharacter(byte: 0x0a)) { try DomainName("host.local\n") }
        #expect(throws: DNSSDError.nameControlCharacter(byte: 0x00)) { try DomainName("ho\u{0}st.local") }
    }

    @Test func utf8LabelsAreAllowedAndMeasuredInBytes() throws {
        #expect(try DomainName("drücker.local").labels.first == "drücker")
        #expect(throws: DNSSDError.labelTooLong(label: String(repeating: "ü", count: 32), bytes: 64)) {
            try DomainName(String(repeating: "ü", count: 32) + ".local")
        }
    }

    @Test func canonicalFormFoldsAsciiCase() throws {
        #expect(try HostName("TBP-Host1.LOCAL").canonical == "tbp-host1.local")
    }
}
