import Foundation
import Testbed
import Testing

/// More imports than avahi-daemon allows one client objects (`objects-per-client-max`,
/// 1,024 as Debian ships it and as the testbed configures it): z2zd spreads them over
/// several publishing clients, and announces them all again after the daemon restarts.
/// The exporting island is `z2z-load`, a stand-in that exports through the DHT.
///
/// By hand for now (`Z2Z_MANY_IMPORTS=1 swift test --filter ManyImports`): it passed every run
/// alone (19–25 s) but failed once inside the whole suite, where the gateway lost z2z-load
/// from its DHT two seconds after joining and its API stopped answering (`z2z status`
/// failed). Publishing runs avahi-daemon's synchronous D-Bus calls on the caller's thread,
/// 1,200 of them in a row; whether that starves the rest of z2zd on two cores is the open
/// question (issue 15, item 3).
@Suite(.timeLimit(.minutes(3)), .enabled(if: ProcessInfo.processInfo.environment["Z2Z_MANY_IMPORTS"] == "1",
                                         "by hand: Z2Z_MANY_IMPORTS=1"))
struct ManyImportsIntegrationTests {
    static let services = 1_200

    /// Distinct z2z-load services `avahi-browse` lists on a host (cache and queries, no resolving).
    func visible(_ bed: Testbed, _ host: HostRef) async throws -> Int {
        let output = try await bed.runChecked(host, ["avahi-browse", "-apt"], timeout: .seconds(20))
        return Set(output.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: ";", omittingEmptySubsequences: false)
            guard fields.count >= 5, fields[0] == "+", fields[4].hasPrefix("_zload") else { return nil }
            return "\(fields[3]).\(fields[4])"
        }).count
    }

    @Test func moreImportsThanOneAvahiClientMayHoldAreAllVisibleAndComeBackAfterAnAvahiRestart() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let gateway = try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1))
            _ = try bed.spawn(.i(1, h: 1), [
                try BuildProducts.executable("z2z-load"), "--port", "7400", "--services", String(Self.services),
                "--bootstrap", "\(bed.address(of: .i(2, h: 1)).v4):7400", "--network-key-file", try bed.networkKeyFile(),
            ])
            do {
                try await poll(timeout: .seconds(60), every: .seconds(1), "\(Self.services) imports visible on i2h2") {
                    try await visible(bed, .i(2, h: 2)) == Self.services
                }
                let status = try await gateway.status(bed)
                #expect((status["services"] as? [String: Any])?["imported"] as? Int == Self.services)
                #expect(!gateway.process.errorOutput.contains { $0.contains("Too many objects") })

                // The new daemon starts with nothing: what it lists on its own host was published again.
                try await bed.restartAvahi(.i(2, h: 1))
                try await poll(timeout: .seconds(60), every: .seconds(1), "\(Self.services) imports published again after the restart") {
                    try await visible(bed, .i(2, h: 1)) == Self.services
                }
                try await poll(timeout: .seconds(30), every: .seconds(1), "\(Self.services) imports visible on i2h2 after the restart") {
                    try await visible(bed, .i(2, h: 2)) == Self.services
                }
            } catch {
                Issue.record("\(await gateway.diagnosis(bed).suffix(4_000))")
                throw error
            }
        }
    }
}
