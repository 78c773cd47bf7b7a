import Foundation
import Testbed
import Testing

/// z2zd's configuration file: refused at start with its key and line; SIGHUP applies a valid
/// new one (the policy answers differently), and keeps the running one when the new one is bad.
@Suite(.serialized) struct ReloadIntegrationTests {
    static let permitting = """
        [island]
        name = "one"

        [policy]
        default = "permit"
        """
    static let denyingSSH = permitting + """

        [[policy.rule]]
        action = "deny"
        type = "_ssh._tcp"
        comment = "no remote shells"
        """

    @Test(.timeLimit(.minutes(2)))
    func sighupAppliesAValidFileAndKeepsTheRunningOneWhenTheNewOneIsBad() async throws {
        try await Testbed.with(islands: 1, hosts: 1) { bed in
            let host = HostRef.i(1, h: 1)
            let file = "\(bed.directory)/\(host)/z2z.toml"
            try Self.permitting.write(toFile: file, atomically: true, encoding: .utf8)
            let daemon = try bed.spawn(host, try Gateway.daemonArguments(bed, host) + ["--config", file])
            _ = try await pollValue(timeout: .seconds(20), "the API") { try? await Self.verdict(bed, host) }
            #expect(try await Self.verdict(bed, host) == "permit")

            try Self.denyingSSH.write(toFile: file, atomically: true, encoding: .utf8)
            daemon.send(SIGHUP)
            try await poll(timeout: .seconds(10), "the new policy in force") { try await Self.verdict(bed, host) == "deny" }
            try await daemon.waitForErrorLine(containing: "configuration reloaded")

            // A bad file: refused with its key and line; the running policy stays.
            let bad = Self.denyingSSH + "\n[dht]\nport = 99999\n"
            try bad.write(toFile: file, atomically: true, encoding: .utf8)
            let badLine = bad.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("port =") }.map { $0 + 1 } ?? 0
            let where_ = "z2z.toml:\(badLine): dht.port"
            daemon.send(SIGHUP)
            let refusal = try await daemon.waitForErrorLine(containing: "reload refused")
            #expect(refusal.contains(where_), "\(refusal)")
            #expect(try await Self.verdict(bed, host) == "deny")
            let stopped = await daemon.stop()
            #expect(stopped.exitCode == 0, "\(stopped)")

            // At start, the same file is refused: exit 2, the key and the line on stderr.
            let refused = try await bed.run(host, try Gateway.daemonArguments(bed, host) + ["--config", file])
            #expect(refused.exitCode == 2)
            #expect(refused.stderr.contains(where_), "\(refused.stderr)")
        }
    }

    /// `z2z policy test _ssh._tcp one --json`: the export verdict's action.
    static func verdict(_ bed: Testbed, _ host: HostRef) async throws -> String? {
        let output = try await bed.runChecked(host, [try BuildProducts.executable("z2z"), "policy", "test", "_ssh._tcp", "one", "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        return (json?["export"] as? [String: Any])?["action"] as? String
    }
}
