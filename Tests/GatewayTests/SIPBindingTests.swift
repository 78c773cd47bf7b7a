import DNSSD
import Island
@testable import Gateway
import SIP
import Testing

/// The leader binds each exported SIP UA under `sip/<AoR>` (the same record as under its type
/// key) and moves or removes the binding with the UA.
struct SIPBindingTests {
    func agent(_ name: String = "sip:alice@example.org Alice's desk phone", type: String = "_sipuri._udp",
               txt: KeyValuePairs<String, String?> = ["txtvers": "1", "contact": "<sip:alice@alice-desk.local:5070>;audio"]) throws -> ServiceInstance {
        ServiceInstance(name: try InstanceName(name), type: try ServiceType(type), host: try HostName("alice-desk.local"),
                        port: 5070, txt: try TXTRecord(txt), addresses: [try IPAddress("10.1.0.70")])
    }

    func bound(_ aor: String, in world: GatewayWorld) throws -> [ServiceRecord] {
        let key = RecordKeys.sip(try SIPAddressOfRecord(parsing: aor), network: world.network)
        return try (world.values[key] ?? [:]).values.map { try ServiceRecordCodec.decode($0.payload) }
    }

    @Test func anExportedAgentIsBoundUnderItsAddressOfRecordUntilItWithdraws() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1)
        world.addGateway(island: 2)
        let alice = try agent()
        world.publishDevice(island: 1, alice)
        world.run(for: .seconds(5))
        let records = try bound("sip:alice@example.org", in: world)
        #expect(records.map(\.name) == [alice.name] && records.first?.port == 5070)
        // The binding gives the same contacts as the UA's own announcement.
        let record = try #require(records.first)
        #expect(try SIPAnnouncement(service: SIPBinding.instance(of: record)).addressOfRecord
            == SIPAddressOfRecord(parsing: "sip:alice@example.org"))

        world.withdrawDevice(island: 1, alice.id)
        world.run(for: .milliseconds(50))
        #expect(try bound("sip:alice@example.org", in: world).isEmpty)
    }

    /// A UA its home leader finds dead (unplugged without a goodbye, so its link still shows
    /// it) leaves the other islands and its `sip/<AoR>` binding, and comes back when it answers.
    @Test func aUAItsLeaderFindsDeadIsWithdrawnEverywhereUntilItAnswers() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1)
        world.addGateway(island: 2)
        let alice = try agent()
        world.publishDevice(island: 1, alice)
        world.run(for: .seconds(5))
        #expect(world.view(island: 2).contains { $0.name == alice.name })

        world.setNotAnswering(island: 1, [alice.id])
        world.run(for: .milliseconds(50))
        #expect(try bound("sip:alice@example.org", in: world).isEmpty)
        #expect(!world.view(island: 2).contains { $0.name == alice.name })
        #expect(world.view(island: 1).contains { $0.id == alice.id }, "still on its own link")

        world.setNotAnswering(island: 1, [])
        world.run(for: .seconds(5))
        #expect(try bound("sip:alice@example.org", in: world).count == 1)
        #expect(world.view(island: 2).contains { $0.name == alice.name })
    }

    @Test func aChangedAddressOfRecordMovesTheBinding() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1)
        world.addGateway(island: 2)
        world.publishDevice(island: 1, try agent("Desk phone", type: "_sip._udp", txt: ["aor": "sip:bob@example.org"]))
        world.run(for: .seconds(5))
        #expect(try bound("sip:bob@example.org", in: world).count == 1)
        world.publishDevice(island: 1, try agent("Desk phone", type: "_sip._udp", txt: ["aor": "sip:carol@example.org"]))
        world.run(for: .seconds(1))
        #expect(try bound("sip:bob@example.org", in: world).isEmpty)
        #expect(try bound("sip:carol@example.org", in: world).count == 1)
    }

    @Test func servicesThatAreNotAgentsAreNotBound() throws {
        let printer = ServiceRecord(
            island: Fixture.islandA, islandName: "one", name: try InstanceName("sip:alice@example.org"),
            type: try ServiceType("_ipp._tcp"), port: 631, txt: .empty, addresses: [try IPAddress("10.1.0.50")],
            hostLabel: "printer")
        #expect(SIPBinding.addressOfRecord(of: printer) == nil)
        // A SIP type without any AoR is not bound either (nothing to key it by).
        var anonymous = printer
        anonymous.type = try ServiceType("_sip._udp")
        anonymous.name = try InstanceName("Lobby phone")
        #expect(SIPBinding.addressOfRecord(of: anonymous) == nil)
    }
}
