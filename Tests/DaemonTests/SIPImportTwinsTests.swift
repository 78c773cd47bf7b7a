@testable import Daemon
import DNSSD
import Gateway
import Island
import LocalDomain
import SIP
import Testing

/// The `_sipuri._udp` twin a leader publishes for an imported plain `_sip._udp` UA.
@Suite struct SIPImportTwinsTests {
    static let island = IslandID(rawValue: 0x0a1b_2c3d)

    static func imported(type: String, name: String, txt: KeyValuePairs<String, String?>) throws -> (ServiceRecord, Publication) {
        let address = try IPAddress("198.51.100.7")
        let record = ServiceRecord(island: island, islandName: "three", name: try InstanceName(name), type: try ServiceType(type),
                                   port: 5062, txt: try TXTRecord(txt), addresses: [address], hostLabel: "bob-pc")
        let host = SynthesizedHost.name(label: "bob-pc", island: island)
        let publication = Publication(name: record.name, type: record.type, port: 5062, txt: record.txt,
                                      host: .synthesized(host, addresses: [address]))
        return (record, publication)
    }

    @Test func aPlainSIPImportGetsATwinInTheDraftsFormatOnAHostNoGatewayExports() throws {
        let (record, publication) = try Self.imported(type: "_sip._udp", name: "Bob's softphone", txt: ["user": "bob"])
        let twin = try #require(SIPImportTwins.publication(for: record, imported: publication))
        #expect(twin.type.description == "_sipuri._udp")
        #expect(twin.name.value == "sip:bob@bob-pc.local Bob's softphone")
        #expect(twin.txt["txtvers"]?.text == "1")
        #expect(twin.txt["contact"]?.text == "<sip:bob@198.51.100.7:5062>")
        guard case .synthesized(let host, let addresses) = twin.host else { Issue.record("not on a synthesized host"); return }
        #expect(SynthesizedHost.isSynthesized(host), "\(host)")
        #expect(host != SynthesizedHost.name(label: "bob-pc", island: Self.island), "a host of its own, not the import's")
        #expect(addresses == [try IPAddress("198.51.100.7")])
        // Read back as an announcement, it is the same AoR with the reachable contact.
        let read = try SIPAnnouncement(service: ServiceInstance(name: twin.name, type: twin.type, host: host, port: twin.port,
                                                                 txt: twin.txt, addresses: addresses))
        #expect(read.addressOfRecord.description == "sip:bob@bob-pc.local")
    }

    @Test func draftFormatImportsAndOtherTypesGetNoTwin() throws {
        let (sipuri, sipuriPublication) = try Self.imported(type: "_sipuri._udp", name: "sip:alice@example.org",
                                                            txt: ["txtvers": "1"])
        #expect(SIPImportTwins.publication(for: sipuri, imported: sipuriPublication) == nil)
        let (printer, printerPublication) = try Self.imported(type: "_ipp._tcp", name: "Printer", txt: [:])
        #expect(SIPImportTwins.publication(for: printer, imported: printerPublication) == nil)
        let (noAoR, noAoRPublication) = try Self.imported(type: "_sip._udp", name: "Just a name", txt: [:])
        #expect(SIPImportTwins.publication(for: noAoR, imported: noAoRPublication) == nil)
    }
}
