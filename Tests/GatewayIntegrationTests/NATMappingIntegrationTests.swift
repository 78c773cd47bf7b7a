import DNSSD
import Foundation
import Testbed
import Testing

/// A leader behind NAT is reached by other leaders' datagrams only while its router keeps
/// the mapping its own datagrams opened. Routers forget idle UDP mappings within a minute or
/// two (Linux: 30 s unanswered, 120 s once answered); here the NAT router forgets them after
/// 25 s either way, so a 40 s quiet spell closes every mapping the leader does not keep open
/// (it pings its DHT members every 15 s once it knows it is behind NAT).
@Suite(.serialized) struct NATMappingIntegrationTests {
    static let type = "_z2znat._tcp"

    @Test(.timeLimit(.minutes(2)))
    func aServicePublishedAfterAQuietSpellReachesTheIslandBehindNATAtOnce() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(uplink: true, masqueraded: [2])) { bed in
            for (key, value) in [("nf_conntrack_udp_timeout", "25"), ("nf_conntrack_udp_timeout_stream", "25")] {
                try await bed.runChecked(.nat(island: 2), ["sysctl", "-q", "-w", "net.netfilter.\(key)=\(value)"])
            }
            let world = RelayWorld(bed)
            try await world.explaining {
                try world.start(.i(1, h: 1), island: "island-1", seed: nil)
                try world.start(.i(2, h: 1), island: "island-2", seed: .i(1, h: 1))
                let natted = try world.watch(.i(2, h: 2))
                _ = try await world.publish(.i(1, h: 2), "Before The Quiet", Self.type, port: 8080)
                _ = try await pollValue(timeout: .seconds(40), "the first service on the NATed island") {
                    natted.present.first { $0.id.name.value == "Before The Quiet" }
                }
                // Quiet: nothing is published or withdrawn; the router forgets the mapping.
                try await Task.sleep(for: .seconds(40))
                let published = ContinuousClock.now
                _ = try await world.publish(.i(1, h: 2), "After The Quiet", Self.type, port: 8081)
                _ = try await pollValue(timeout: .seconds(30), "the second service on the NATed island") {
                    natted.present.first { $0.id.name.value == "After The Quiet" }
                }
                let took = ContinuousClock.now - published
                await world.check(took < .seconds(3), "the service published after the quiet took \(took) to reach the NATed island")
            }
        }
    }
}
