import Foundation
import Testbed
import Testing

/// A gateway sees every service of a host with hundreds of them, with avahi-daemon as Debian
/// ships it (issue 15, item 3; issue 18, point 5).
///
/// Each local service takes two resolvers and its host two record browsers in avahi-daemon,
/// and the daemon allows one client 1,024 objects: with every lookup on the browsing
/// client, a gateway saw 501 of 2,000 services on its own host and never more (6,002
/// "resolver failed" lines, no retry; Deploy/bench/export). Lookups now spread over object
/// clients as entry groups do (`ClientPool`).
@Suite(.serialized) struct ManyLocalServicesIntegrationTests {
    @Test(.timeLimit(.minutes(3)))
    func aGatewaySeesSixHundredServicesOfItsOwnHostWithDebiansObjectLimit() async throws {
        let count = 600
        try await Testbed.with(islands: 1, hosts: 1) { bed in
            let script = Repository.root.appendingPathComponent("Deploy/avahi-publish-many").path
            let publisher = try bed.spawn(.i(1, h: 1), ["/usr/bin/python3", "-u", script, String(count), "--prefix", "local"])
            try await publisher.waitForLine(containing: "published", timeout: .seconds(60))
            let gateway = try Gateway.start(bed, .i(1, h: 1), island: "one", seed: nil)
            // Polls past what the old limit allowed, so that a failure shows where it stopped.
            var seen = 0
            do {
                try await poll(timeout: .seconds(90), every: .milliseconds(500), "\(count) local services in z2z status") {
                    let services = try await gateway.status(bed, degradedToo: true)["services"] as? [String: Any]
                    seen = services?["local"] as? Int ?? 0
                    return seen >= count
                }
            } catch {
                Issue.record("the gateway saw \(seen) of \(count) local services\n\(await gateway.diagnosis(bed))")
                throw error
            }
            #expect(seen == count)
            await gateway.process.stop()
            await publisher.stop()
        }
    }
}
