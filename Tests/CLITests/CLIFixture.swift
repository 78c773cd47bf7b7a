import Config
import Foundation
import Z2ZAPI

/// The gateway state the CLI tests read: island "office" led by this gateway, island "lab".
enum CLIFixture {
    static let officeID = "1a2b3c4d5e6f7081"
    static let labID = "0000000000000042"
    static let nodeID = "3f2a9c1e" + String(repeating: "0", count: 56)
    static let labLeader = "77aa88bb" + String(repeating: "1", count: 56)

    static var snapshot: StaticGatewayState.Snapshot {
        StaticGatewayState.Snapshot(
            status: StatusResponse(
                nodeID: nodeID, network: "z2z", island: IslandRef(id: officeID, name: "office"), role: .leader,
                leaderID: nodeID, stage: .interconnection, overlayID: nil, peerCount: 2,
                services: ServiceCounts(local: 1, imported: 1, exported: 1), uptimeSeconds: 7980,
                avahi: AvahiStatus(state: .connected), health: .ok),
            islands: [
                IslandInfo(id: officeID, name: "office", isLocal: true, leaderID: nodeID, leaderEndpoint: "192.0.2.10:7400",
                           lastSeen: Date(), serviceCount: 1),
                IslandInfo(id: labID, name: "lab", leaderID: labLeader, leaderEndpoint: "198.51.100.7:7400",
                           lastSeen: Date().addingTimeInterval(-3 * 3600 - 30), serviceCount: 1),
            ],
            peers: [
                PeerInfo(id: labLeader, endpoint: "198.51.100.7:7400", kind: .remoteLeader, role: .leader,
                         island: IslandRef(id: labID, name: "lab"), rttMilliseconds: 12.5, state: .alive,
                         lastHeard: Date().addingTimeInterval(-1)),
            ],
            services: [
                ServiceJSON(
                    name: "Lab Printer; 2.OG", type: "_ipp._tcp", host: "printer.local", port: 631,
                    txt: [ServiceJSON.TXT(key: "rp", value: Data("printers/lab".utf8).base64EncodedString(), text: "printers/lab"),
                          ServiceJSON.TXT(key: "bin", value: Data([0x01, 0xff]).base64EncodedString(), text: nil)],
                    addresses: [ServiceJSON.Address(address: "192.0.2.20", interface: "eth0"),
                                ServiceJSON.Address(address: "2001:db8::20", interface: "eth0")],
                    origin: .local, island: IslandRef(id: officeID, name: "office"),
                    policy: PolicyVerdict(action: .permit, explanation: "default: permit")),
                ServiceJSON(
                    name: "Camera", type: "_rtsp._tcp", host: "camera-lab.local", port: 554,
                    addresses: [ServiceJSON.Address(address: "198.51.100.30", interface: "eth0")], local: true, ourOwn: true,
                    origin: .imported, island: IslandRef(id: labID, name: "lab"),
                    policy: PolicyVerdict(action: .permit, ruleNumber: 2, ruleLine: 6, rule: "permit import type=* island=lab",
                                          explanation: "rule 2 (line 6): permit import type=* island=lab")),
            ])
    }

    static var configuration: GatewayConfiguration {
        try! ConfigurationLoader.parse("""
            [policy]
            default = "deny"
            [[policy.rule]]
            action = "deny"
            type = "_ssh._tcp"
            [[policy.rule]]
            action = "permit"
            direction = "import"
            island = "lab"
            [[policy.rule]]
            action = "permit"
            direction = "export"
            name = "Lab*"
            [[policy.rule]]
            action = "permit"
            address = "192.0.2.0/24"
            """).get()
    }
}
