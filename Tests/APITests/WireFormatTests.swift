import DNSSD
import Foundation
import LocalDomain
import Policy
import Testing
import Z2ZAPI

/// The JSON field names are a contract with scripts: these goldens change only with a new API version.
struct WireFormatTests {
    func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try APIJSON.encoder().encode(value), as: UTF8.self)
    }

    @Test func statusGolden() throws {
        var status = Fixture.status
        status.nodeID = "n1"
        status.leaderID = "n2"
        status.overlayID = "o1"
        status.health = Health(state: .degraded, reasons: ["r"])
        status.avahi = AvahiStatus(state: .connecting, detail: "d")
        #expect(try json(status) == """
            {"avahi":{"detail":"d","state":"connecting"},"health":{"reasons":["r"],"state":"degraded"},\
            "island":{"id":"1a2b3c4d5e6f7081","name":"office"},"leader_id":"n2","network":"z2z","node_id":"n1",\
            "overlay_id":"o1","peer_count":2,"role":"leader","services":{"exported":1,"imported":1,"local":1},\
            "stage":"interconnection","uptime_seconds":3725.5}
            """)
    }

    @Test func islandsAndPeersGolden() throws {
        #expect(try json(IslandsResponse(islands: [Fixture.snapshot.islands[1]])) == """
            {"islands":[{"id":"0000000000000042","last_seen":"2027-01-15T08:00:00Z","leader_endpoint":"198.51.100.7:7400",\
            "leader_id":"\(String(repeating: "cd", count: 32))","local":false,"name":"lab","service_count":1}]}
            """)
        #expect(try json(PeersResponse(peers: [Fixture.snapshot.peers[1]])) == """
            {"peers":[{"endpoint":"198.51.100.7:7400","id":"\(String(repeating: "cd", count: 32))",\
            "island":{"id":"0000000000000042","name":"lab"},"kind":"remote_leader","last_heard":"2027-01-15T08:00:00Z",\
            "role":"leader","rtt_ms":12.5,"state":"suspect"}]}
            """)
    }

    @Test func serviceGoldenWithAPIFields() throws {
        #expect(try json(Fixture.camera) == """
            {"addresses":[{"address":"198.51.100.30","interface":"eth0"}],"domain":"local","host":"camera-lab.z2z.local",\
            "island":{"id":"0000000000000042","name":"lab"},"local":false,"name":"Camera","origin":"imported","ourOwn":true,\
            "policy":{"action":"permit","explanation":"rule 2 (line 12): permit import type=* island=lab","rule":"permit import type=* island=lab",\
            "rule_line":12,"rule_number":2},"port":554,"subtypes":[],"txt":[],"type":"_rtsp._tcp"}
            """)
    }

    /// `z2z local --json` keeps exactly its fields: the API's additions are absent there.
    @Test func aLocallyDiscoveredServiceEncodesWithoutAPIFields() throws {
        let instance = try ServiceInstance(
            name: InstanceName("Lab Printer"), type: ServiceType("_ipp._tcp"), host: HostName("printer.local"), port: 631,
            txt: TXTRecord(["rp": "lab", "color": nil]))
        let service = DiscoveredService(instance: instance, origin: [.local],
                                        linkAddresses: [LinkAddress(interface: 0, address: try IPAddress("192.0.2.20"))])
        let encoded = try json(ServiceJSON(service))
        #expect(encoded == """
            {"addresses":[{"address":"192.0.2.20","interface":"n/a"}],"domain":"local","host":"printer.local","local":true,\
            "name":"Lab Printer","ourOwn":false,"port":631,"subtypes":[],\
            "txt":[{"key":"rp","text":"lab","value":"bGFi"},{"key":"color"}],"type":"_ipp._tcp"}
            """)
        #expect(ServiceJSON(service).txtStrings == [Array("rp=lab".utf8), Array("color".utf8)])
    }

    @Test func policyTestAndConfigCheckGolden() throws {
        let result = PolicyTestResult(
            type: "_ipp._tcp", island: IslandRef(id: nil, name: "x"),
            exportVerdict: PolicyVerdict(Verdict(action: .permit, ruleNumber: nil, rule: nil)),
            importVerdict: PolicyVerdict(Verdict(action: .deny, ruleNumber: 1, rule: PolicyRule(.deny, line: 9))))
        #expect(try json(result) == """
            {"export":{"action":"permit","explanation":"default: permit"},\
            "import":{"action":"deny","explanation":"rule 1 (line 9): deny both type=* island=*","rule":"deny both type=* island=*",\
            "rule_line":9,"rule_number":1},"island":{"name":"x"},"type":"_ipp._tcp"}
            """)
        // Asked about one instance: what was given comes back, and the rules passed over.
        let instance = PolicyTestResult(
            type: "_ipp._tcp", island: IslandRef(id: nil, name: "x"), name: "Lab 1", host: "lab-1.local", addresses: ["10.1.2.7"],
            exportVerdict: PolicyVerdict(Verdict(action: .permit, ruleNumber: nil, rule: nil), passedOver: [2]),
            importVerdict: PolicyVerdict(Verdict(action: .permit, ruleNumber: nil, rule: nil)))
        #expect(try json(instance) == """
            {"addresses":["10.1.2.7"],"export":{"action":"permit","explanation":"default: permit","passed_over":[2]},\
            "host":"lab-1.local","import":{"action":"permit","explanation":"default: permit"},"island":{"name":"x"},\
            "name":"Lab 1","type":"_ipp._tcp"}
            """)
        let problem = ConfigCheckResult.Problem(.init(source: .file(path: "/f", line: 2, column: nil), key: "dht.port",
                                                      reason: .outOfRange, message: "m"))
        #expect(try json(ConfigCheckResult(ok: false, file: "/f", problems: [problem])) == """
            {"file":"/f","ok":false,"problems":[{"description":"/f:2: dht.port: m","key":"dht.port","line":2,\
            "location":"/f","message":"m","reason":"out_of_range","source":"file"}]}
            """)
    }

    @Test func unknownEnumerationValuesFromANewerDaemonStillDecode() throws {
        var text = String(decoding: try APIJSON.encoder().encode(Fixture.status), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"interconnection\"", with: "\"splitting\"")
            .replacingOccurrences(of: "\"leader\"", with: "\"observer\"")
        let status = try APIJSON.decoder().decode(StatusResponse.self, from: Data(text.utf8))
        #expect(status.stage.rawValue == "splitting" && status.role.rawValue == "observer")
    }

    @Test func unknownFieldsFromANewerDaemonAreIgnored() throws {
        var text = String(decoding: try APIJSON.encoder().encode(Fixture.status), as: UTF8.self)
        text.removeLast()
        text += ",\"future_field\":{\"x\":1}}"
        #expect(try APIJSON.decoder().decode(StatusResponse.self, from: Data(text.utf8)) == Fixture.status)
    }

    // MARK: how an import is reached (issue 14): added fields, optional both ways

    static let relayedCamera: ServiceJSON = {
        var camera = Fixture.camera
        camera.route = ImportRoute(path: .relayed, reason: "lan_not_routed", relayLeader: "3fa2c1d0",
                                   summary: "relayed via leader 3fa2c1d0: LAN not routed")
        return camera
    }()

    @Test func anImportsRouteGoldenAndRoundTrip() throws {
        let encoded = try json(Self.relayedCamera)
        #expect(encoded.contains("""
            "route":{"path":"relayed","reason":"lan_not_routed","relay_leader":"3fa2c1d0",\
            "summary":"relayed via leader 3fa2c1d0: LAN not routed"}
            """))
        #expect(try APIJSON.decoder().decode(ServiceJSON.self, from: Data(encoded.utf8)) == Self.relayedCamera)
        let unreachable = ImportRoute(path: .unreachable, summary: "unreachable: no routable address, and the relay is off")
        #expect(try json(unreachable) == #"{"path":"unreachable","summary":"unreachable: no routable address, and the relay is off"}"#)
        #expect(try APIJSON.decoder().decode(ImportRoute.self, from: Data(try json(unreachable).utf8)) == unreachable)
    }

    /// JSON from a daemon that predates the relay has no route and no relayed counts: it
    /// still decodes, with them absent.
    @Test func jsonWithoutTheRouteFieldsStillDecodes() throws {
        let service = try APIJSON.decoder().decode(ServiceJSON.self, from: Data("""
            {"addresses":[{"address":"198.51.100.30","interface":"eth0"}],"domain":"local","host":"camera-lab.z2z.local",\
            "island":{"id":"0000000000000042","name":"lab"},"local":false,"name":"Camera","origin":"imported","ourOwn":true,\
            "port":554,"subtypes":[],"txt":[],"type":"_rtsp._tcp"}
            """.utf8))
        #expect(service.route == nil && service.origin == .imported)
        let trace = try APIJSON.decoder().decode(ServiceTrace.self, from: Data("""
            {"instance":"Camera","type":"_rtsp._tcp","island":{"id":"0000000000000042"},"direction":"inbound","steps":[],\
            "crossed":true,"verdict":"crosses: imported on this link as \\"Camera\\""}
            """.utf8))
        #expect(trace.route == nil && trace.crossed)
        let counts = try APIJSON.decoder().decode(ServiceCounts.self, from: Data(#"{"exported":1,"imported":1,"local":1}"#.utf8))
        #expect(counts == ServiceCounts(local: 1, imported: 1, exported: 1) && counts.relayed == nil)
    }

    @Test func aTraceRouteAndRelayedCountsRoundTrip() throws {
        let trace = ServiceTrace(instance: "Camera", type: "_rtsp._tcp", island: IslandRef(id: Fixture.labID), direction: .inbound,
                                 steps: [], crossed: true, verdict: "crosses", route: Self.relayedCamera.route)
        #expect(try APIJSON.decoder().decode(ServiceTrace.self, from: Data(try json(trace).utf8)) == trace)
        let counts = ServiceCounts(local: 1, imported: 3, exported: 1, relayed: ["lan_not_routed": 2, "always": 1])
        #expect(try json(counts) == #"{"exported":1,"imported":3,"local":1,"relayed":{"always":1,"lan_not_routed":2}}"#)
        #expect(try APIJSON.decoder().decode(ServiceCounts.self, from: Data(try json(counts).utf8)) == counts)
    }
}
