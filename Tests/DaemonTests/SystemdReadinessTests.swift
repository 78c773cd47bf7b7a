@testable import Daemon
import Testing
import Z2ZAPI

/// When z2zd tells systemd READY=1, and the STATUS= line it sends.
struct SystemdReadinessTests {
    static func status(avahi: AvahiStatus.State = .connected, leader: Bool = true, role: GatewayRole = .leader) -> StatusResponse {
        StatusResponse(nodeID: "ab", network: "z2z", island: IslandRef(id: "0000000000000001", name: "one"), role: role,
                       leaderID: leader ? "ab" : nil, stage: .interconnection, overlayID: nil, peerCount: 1,
                       services: ServiceCounts(local: 2, imported: 1, exported: 2), uptimeSeconds: 3,
                       avahi: AvahiStatus(state: avahi), health: .ok)
    }

    @Test func readyOnlyWithAvahiALeaderAndForALeaderWithSeedsTheOverlay() {
        let grace = Duration.seconds(30)
        #expect(!SystemdService.isReady(Self.status(avahi: .connecting), dhtPeers: 1, seedsConfigured: false, waited: .zero, grace: grace))
        #expect(!SystemdService.isReady(Self.status(leader: false), dhtPeers: 1, seedsConfigured: false, waited: .zero, grace: grace))
        #expect(SystemdService.isReady(Self.status(), dhtPeers: 0, seedsConfigured: false, waited: .zero, grace: grace))
        #expect(SystemdService.isReady(Self.status(role: .follower), dhtPeers: 0, seedsConfigured: true, waited: .zero, grace: grace))
        #expect(!SystemdService.isReady(Self.status(), dhtPeers: 0, seedsConfigured: true, waited: .seconds(29), grace: grace))
        #expect(SystemdService.isReady(Self.status(), dhtPeers: 1, seedsConfigured: true, waited: .zero, grace: grace))
        #expect(SystemdService.isReady(Self.status(), dhtPeers: 0, seedsConfigured: true, waited: .seconds(30), grace: grace))
    }

    @Test func statusLineSaysWhatTheGatewayIsDoing() {
        #expect(SystemdService.statusLine(Self.status(), dhtPeers: 3)
            == "leader on island one (0000000000000001), stage interconnection, 3 DHT peers; services: 2 local, 1 imported, 2 exported")
        #expect(SystemdService.statusLine(Self.status(avahi: .connecting), dhtPeers: 0).hasPrefix("waiting for avahi-daemon"))
        #expect(SystemdService.statusLine(Self.status(leader: false), dhtPeers: 0) == "electing a leader on island one (0000000000000001)")
    }
}
