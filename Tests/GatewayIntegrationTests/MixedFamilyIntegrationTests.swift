import DNSSD
import Foundation
import Gateway
import Testbed
import Testing

/// One IPv6-only island among dual-stack ones: its leader joins through a dual-stack
/// leader's IPv6 address while the dual-stack leaders know each other by IPv4; services
/// cross both ways and no gateway's DHT socket closes (a datagram to a family the host has
/// no address of would fail with ENETUNREACH, and the socket with it: `ReachableFamilies`).
@Suite(.serialized) struct MixedFamilyIntegrationTests {
    @Test(.timeLimit(.minutes(2)))
    func anIPv6OnlyIslandAmongDualStackOnesExchangesServicesAndKeepsItsSocket() async throws {
        try await Testbed.with(islands: 3, hosts: 2, topology: .init(ipv6Only: [2])) { bed in
            let one = bed.address(of: .i(1, h: 1)).v6
            let gateways = [
                try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(3, h: 1)),
                // Island 1's leader by its IPv6 address: the IPv6-only island's only way in.
                try Gateway.start(bed, .i(2, h: 1), island: "two", seed: nil, config: "[dht]\nbootstrap = [\"[\(one)]:7400\"]\n"),
                try Gateway.start(bed, .i(3, h: 1), island: "three", seed: .i(1, h: 1)),
            ]
            let onTwo = try BrowseWatcher(bed, .i(2, h: 2), type: "_ipp._tcp")
            let onThree = try BrowseWatcher(bed, .i(3, h: 2), type: "_http._tcp")
            let printer = try bed.spawn(.i(3, h: 2), ["avahi-publish", "-s", "Dual Printer", "_ipp._tcp", "631"])
            let web = try bed.spawn(.i(2, h: 2), ["avahi-publish", "-s", "Six Web", "_http._tcp", "8080"])
            try await printer.waitForErrorLine(containing: "Established")
            try await web.waitForErrorLine(containing: "Established")
            do {
                _ = try await pollValue(timeout: .seconds(45), "island 3's printer on the IPv6-only island") {
                    onTwo.present.first { $0.id.name.value == "Dual Printer" && $0.resolution.map { SynthesizedHost.isSynthesized($0.host) } == true }
                }
                _ = try await pollValue(timeout: .seconds(45), "the IPv6-only island's service on island 3") {
                    onThree.present.first { $0.id.name.value == "Six Web" && $0.resolution.map { SynthesizedHost.isSynthesized($0.host) } == true }
                }
                for gateway in gateways {
                    #expect(!gateway.process.errorOutput.contains { $0.contains("DHT socket closed") }, "\(gateway.host): \(gateway.log)")
                }
            } catch {
                for gateway in gateways { Issue.record("\(await gateway.diagnosis(bed))") }
                throw error
            }
            for gateway in gateways { await gateway.process.stop() }
        }
    }
}
