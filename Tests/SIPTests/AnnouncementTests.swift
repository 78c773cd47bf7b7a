import DNSSD
import Foundation
import SIP
import Testing

@Suite struct AnnouncementTests {
    static func service(
        _ name: String, type: String = "_sipuri._udp", host: String = "alice-desk.local", port: UInt16 = 5060,
        txt: KeyValuePairs<String, String?> = [:], addresses: [String] = ["192.0.2.10", "fe80::1"]
    ) throws -> ServiceInstance {
        ServiceInstance(
            name: try InstanceName(name), type: try ServiceType(type), host: try HostName(host), port: port,
            txt: try TXTRecord(txt), addresses: try addresses.map { try IPAddress($0) })
    }

    @Test func draftAnnouncementCarriesAoRDisplayNameContactAndCapabilities() throws {
        let announcement = try SIPAnnouncement(service: Self.service(
            "sip:Alice@Example.org Alice's desk phone",
            txt: ["txtvers": "1", "name": "Alice Example", "contact": "<sip:alice@192.0.2.10:5062>;audio;video;methods=\"INVITE,MESSAGE\""]))
        #expect(announcement.style == .sipURI)
        #expect(announcement.addressOfRecord.description == "sip:Alice@example.org")
        #expect(announcement.label == "Alice's desk phone")
        #expect(announcement.displayName == "Alice Example")
        #expect(announcement.contact?.description == "sip:alice@192.0.2.10:5062")
        #expect(announcement.capabilities.map(\.name) == ["audio", "video", "methods"])
        #expect(announcement.capabilities.value(of: "methods") == "INVITE,MESSAGE")
    }

    @Test func announcementRoundTripsThroughAServiceInstance() throws {
        let original = SIPAnnouncement(
            uri: try SIPURI(parsing: "sip:bob@example.net"), label: "PDA", displayName: "Bob the Builder",
            contact: try SIPURI(parsing: "sip:bob@192.0.2.20:5060"),
            capabilities: [SIPParameter(name: "audio"), SIPParameter(name: "methods", value: "INVITE,MESSAGE", isQuoted: true)])
        let service = try original.serviceInstance(host: HostName("bobs-machine.local"), port: 5060)
        #expect(service.name.value == "sip:bob@example.net PDA")
        #expect(service.type.description == "_sipuri._udp")
        #expect(service.txt["txtvers"]?.text == "1")
        #expect(service.txt["contact"]?.text == "<sip:bob@192.0.2.20:5060>;audio;methods=\"INVITE,MESSAGE\"")
        #expect(try SIPAnnouncement(service: service) == original)
    }

    @Test func theShippedAvahiServiceFileIsAValidAnnouncement() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Services/sip-ua-example.service")
        let xml = try String(contentsOf: url, encoding: .utf8)
        func elements(_ tag: String) -> [String] {
            xml.components(separatedBy: "<\(tag)").dropFirst().compactMap { chunk in
                chunk.split(separator: ">", maxSplits: 1, omittingEmptySubsequences: false).last?.components(separatedBy: "</\(tag)>").first
            }.map { $0.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">") }
        }
        let txt = elements("txt-record").map { Array($0.utf8) }
        let service = ServiceInstance(
            name: try InstanceName(try #require(elements("name").first)), type: try ServiceType(try #require(elements("type").first)),
            host: try HostName("alice-desk.local"), port: UInt16(try #require(elements("port").first)) ?? 0,
            txt: TXTRecord.receiving(txt).record, addresses: [try IPAddress("192.0.2.10")])
        let announcement = try SIPAnnouncement(service: service)
        #expect(announcement.addressOfRecord.description == "sip:alice@example.org")
        #expect(announcement.capabilities.map(\.name).contains("audio"))
        // Its contact host is link-scoped, so the export rebuilds it on the routable address.
        #expect(announcement.contacts(for: service).map(\.uri.description) == ["sip:alice@192.0.2.10:5060"])
    }

    @Test func contactsWithoutTXTAreBuiltOnRoutableAddresses() throws {
        let service = try Self.service("sip:carol@example.com", type: "_sipuri._tcp", port: 5070,
                                       addresses: ["192.0.2.30", "2001:db8::30", "169.254.1.1", "fe80::2"])
        let announcement = try SIPAnnouncement(service: service)
        #expect(announcement.contacts(for: service).map(\.uri.description)
            == ["sip:carol@192.0.2.30:5070;transport=tcp", "sip:carol@[2001:db8::30]:5070;transport=tcp"])
        let linkOnly = try Self.service("sip:carol@example.com", addresses: ["169.254.1.1"])
        #expect(try SIPAnnouncement(service: linkOnly).contacts(for: linkOnly).isEmpty)
    }

    @Test func plainSIPServicesFindTheirAoRInNameThenTXT() throws {
        let named = try SIPAnnouncement(service: Self.service("sip:dave@example.org", type: "_sip._udp"))
        #expect(named.style == .plain)
        #expect(named.addressOfRecord.description == "sip:dave@example.org")
        let byAoR = try SIPAnnouncement(service: Self.service("Dave's phone", type: "_sip._tcp", txt: ["aor": "sip:dave@example.org"]))
        #expect(byAoR.addressOfRecord.description == "sip:dave@example.org")
        #expect(byAoR.label == "Dave's phone")
        let byUser = try SIPAnnouncement(service: Self.service("Softphone", type: "_sip._udp", host: "dave-pc.local", txt: ["user": "dave"]))
        #expect(byUser.addressOfRecord.description == "sip:dave@dave-pc.local")
        let secure = try SIPAnnouncement(service: Self.service("sips:erin@example.org", type: "_sips._tcp"))
        #expect(secure.uri.isSecure)
    }

    @Test func servicesThatAreNotUsableAnnouncementsAreRefusedWithAReason() throws {
        #expect(throws: SIPAnnouncementRejection.addressOfRecordMissing) {
            try SIPAnnouncement(service: Self.service("Some phone", type: "_sip._udp"))
        }
        #expect(throws: SIPAnnouncementRejection.notSIPServiceType("_ipp._tcp")) {
            try SIPAnnouncement(service: Self.service("sip:a@b.example", type: "_ipp._tcp"))
        }
        #expect(throws: SIPAnnouncementRejection.txtVersionUnsupported("2")) {
            try SIPAnnouncement(service: Self.service("sip:a@b.example", txt: ["txtvers": "2"]))
        }
        #expect(throws: SIPAnnouncementRejection.contactNotSIP("mailto")) {
            try SIPAnnouncement(service: Self.service("sip:a@b.example", txt: ["contact": "<mailto:a@b.example>"]))
        }
        #expect(throws: SIPAnnouncementRejection.self) {
            try SIPAnnouncement(service: Self.service("sip:a@[broken", txt: [:]))
        }
        #expect(SIPAnnouncementRejection.addressOfRecordMissing.reason == "address_of_record_missing")
    }

    @Test func anImportedCopyNamesAContactTheOtherIslandCanReach() throws {
        let original = try Self.service(
            "sip:alice@example.org Alice's desk phone",
            txt: ["txtvers": "1", "name": "Alice", "contact": "<sip:alice@alice-desk.local:5070>;audio"])
        let txt = SIPAnnouncement.importedTXT(of: original, publishedAt: [try IPAddress("198.51.100.7")], port: 5070)
        #expect(txt["contact"]?.text == "<sip:alice@198.51.100.7:5070>;audio")
        #expect(txt.entries.map(\.key) == ["txtvers", "name", "contact"], "order kept, nothing else touched")
        #expect(txt["name"]?.text == "Alice")
        // A routable contact stays byte for byte.
        let routable = try Self.service("sip:bob@example.org", txt: ["txtvers": "1", "contact": "<sip:bob@192.0.2.10:5062>"])
        #expect(SIPAnnouncement.importedTXT(of: routable, publishedAt: [try IPAddress("198.51.100.7")], port: 5062) == routable.txt)
    }

    @Test func anImportedPlainSIPServiceKeepsItsAoRAlthoughItsHostNameChanges() throws {
        let original = try Self.service("Bob's softphone", type: "_sip._udp", host: "bob-pc.local", txt: ["user": "bob"])
        let txt = SIPAnnouncement.importedTXT(of: original, publishedAt: [try IPAddress("198.51.100.8")], port: 5060)
        #expect(txt["aor"]?.text == "sip:bob@bob-pc.local")
        var imported = original
        imported.host = try HostName("z2z-bob-pc-1234.local")
        imported.txt = txt
        #expect(try SIPAnnouncement(service: imported).addressOfRecord.description == "sip:bob@bob-pc.local")
        // Not a UA at all: unchanged.
        let other = try Self.service("Printer", type: "_sip._udp", txt: ["note": "x"])
        #expect(SIPAnnouncement.importedTXT(of: other, publishedAt: [], port: 5060) == other.txt)
    }
}
