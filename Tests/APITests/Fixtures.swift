import Config
import DNSSD
import Foundation
import Policy
import Z2ZAPI

/// A gateway in a known state: leader of island "office", one other island, two peers, a
/// local and an imported service.
enum Fixture {
    static let officeID = "1a2b3c4d5e6f7081"
    static let labID = "0000000000000042"
    static let nodeID = String(repeating: "ab", count: 32)
    static let seen = Date(timeIntervalSince1970: 1_800_000_000)

    static var status: StatusResponse {
        StatusResponse(
            nodeID: nodeID, network: "z2z", island: IslandRef(id: officeID, name: "office"), role: .leader,
            leaderID: nodeID, stage: .interconnection, overlayID: nil, peerCount: 2,
            services: ServiceCounts(local: 1, imported: 1, exported: 1), uptimeSeconds: 3725.5,
            avahi: AvahiStatus(state: .connected), health: .ok)
    }

    static var snapshot: StaticGatewayState.Snapshot {
        StaticGatewayState.Snapshot(
            status: status,
            islands: [
                IslandInfo(id: officeID, name: "office", isLocal: true, leaderID: nodeID, leaderEndpoint: "192.0.2.10:7400",
                           lastSeen: seen, serviceCount: 1),
                IslandInfo(id: labID, name: "lab", leaderID: String(repeating: "cd", count: 32),
                           leaderEndpoint: "198.51.100.7:7400", lastSeen: seen, serviceCount: 1),
            ],
            peers: [
                PeerInfo(id: String(repeating: "ef", count: 32), endpoint: "192.0.2.11:7400", kind: .islandGateway,
                         role: .follower, island: IslandRef(id: officeID, name: "office"), rttMilliseconds: 0.4,
                         state: .alive, lastHeard: seen),
                PeerInfo(id: String(repeating: "cd", count: 32), endpoint: "198.51.100.7:7400", kind: .remoteLeader,
                         role: .leader, island: IslandRef(id: labID, name: "lab"), rttMilliseconds: 12.5,
                         state: .suspect, lastHeard: seen),
            ],
            services: [printer, camera])
    }

    static let printer = ServiceJSON(
        name: "Lab Printer; 2nd floor", type: "_ipp._tcp", host: "printer.local", port: 631,
        txt: [ServiceJSON.TXT(key: "rp", value: Data("printers/lab".utf8).base64EncodedString(), text: "printers/lab"),
              ServiceJSON.TXT(key: "color", value: nil, text: nil)],
        addresses: [ServiceJSON.Address(address: "192.0.2.20", interface: "eth0"),
                    ServiceJSON.Address(address: "2001:db8::20", interface: "eth0")],
        origin: .local, island: IslandRef(id: officeID, name: "office"),
        policy: PolicyVerdict(action: .permit, explanation: "default: permit"))

    static let camera = ServiceJSON(
        name: "Camera", type: "_rtsp._tcp", host: "camera-lab.z2z.local", port: 554,
        addresses: [ServiceJSON.Address(address: "198.51.100.30", interface: "eth0")], ourOwn: true,
        origin: .imported, island: IslandRef(id: labID, name: "lab"),
        policy: PolicyVerdict(action: .permit, ruleNumber: 2, ruleLine: 12, rule: "permit import type=* island=lab",
                              explanation: "rule 2 (line 12): permit import type=* island=lab"))

    /// Denies exports of SSH, permits imports from lab by name, denies the rest of imports.
    static var configuration: GatewayConfiguration {
        get throws {
            try ConfigurationLoader.parse("""
                [policy]
                default = "deny"
                [[policy.rule]]
                action = "deny"
                direction = "export"
                type = "_ssh._tcp"
                [[policy.rule]]
                action = "permit"
                direction = "import"
                island = "lab"
                [[policy.rule]]
                action = "permit"
                direction = "export"
                """).get()
        }
    }
}
