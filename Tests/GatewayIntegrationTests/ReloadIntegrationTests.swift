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

    /// The defect issue 13 names: an export rule naming this island by id was ignored by the
    /// running gateway while explain, services and policy test said it denied. For each form
    /// a rule names the island in (id, name, `*`, a tag), reloaded by SIGHUP: the service
    /// leaves the other island (the machine denied it) and all three tools say deny, rule 1;
    /// a permitting file brings it back before the next form.
    @Test(.timeLimit(.minutes(4)))
    func anExportRuleNamingTheIslandInAnyFormDeniesInTheRunningGatewayAsTheToolsSay() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let one = HostRef.i(1, h: 1), two = HostRef.i(2, h: 1)
            let file = "\(bed.directory)/\(one)/z2z.toml"
            try FileManager.default.createDirectory(atPath: "\(bed.directory)/\(one)", withIntermediateDirectories: true)
            try Self.permitting.write(toFile: file, atomically: true, encoding: .utf8)
            let daemon = try bed.spawn(one, try Gateway.daemonArguments(bed, one) + [
                "--config", file, "--bootstrap", "\(bed.address(of: two).v4):7400",
            ])
            let other = try Gateway.start(bed, two, island: "two", seed: one)
            _ = try bed.spawn(.i(1, h: 2), ["avahi-publish", "-s", "Policy Printer", "_ipp._tcp", "631"])
            let watcher = try BrowseWatcher(bed, .i(2, h: 2), type: "_ipp._tcp")
            func crossed() -> Bool { watcher.present.contains { $0.id.name.value == "Policy Printer" } }
            do {
                try await poll(timeout: .seconds(40), "the printer on island two") { crossed() }
            } catch {
                Issue.record("\(await Gateway(host: one, process: daemon).diagnosis(bed))\n\(await other.diagnosis(bed))")
                throw error
            }
            let islands = try await Self.json(bed, one, ["islands"])["islands"] as? [[String: Any]] ?? []
            let id = try #require(islands.first { $0["local"] as? Bool == true }?["id"] as? String)

            let forms = [("id", "island = \"\(id)\"\ntype = \"_ipp._tcp\""), ("name", "island = \"one\"\ntype = \"_ipp._tcp\""),
                         ("*", "island = \"*\"\ntype = \"_ipp._tcp\""), ("tag", "tag = \"printing\"")]
            for (form, match) in forms {
                let denying = Self.permitting + """

                    [policy.tags]
                    printing = ["_ipp._tcp"]

                    [[policy.rule]]
                    action = "deny"
                    direction = "export"
                    \(match)
                    """
                try denying.write(toFile: file, atomically: true, encoding: .utf8)
                daemon.send(SIGHUP)
                try await poll(timeout: .seconds(20), "the printer gone from island two, rule by \(form)") { !crossed() }

                let services = try await Self.json(bed, one, ["services"])["services"] as? [[String: Any]] ?? []
                let listed = try #require(services.first { $0["name"] as? String == "Policy Printer" })
                let verdict = listed["policy"] as? [String: Any]
                #expect(verdict?["action"] as? String == "deny" && verdict?["rule_number"] as? Int == 1, "services, rule by \(form)")

                let explained = try await OperationsIntegrationTests.explain(bed, one, "Policy Printer._ipp._tcp")
                let steps = OperationsIntegrationTests.traces(explained).first?["steps"] as? [[String: Any]] ?? []
                let step = steps.first { $0["step"] as? String == "export_policy" }
                #expect(step?["outcome"] as? String == "failed", "explain, rule by \(form): \(steps)")

                for typed in [id, "one"] {
                    let tested = try await Self.json(bed, one, ["policy", "test", "_ipp._tcp", typed])
                    let export = tested["export"] as? [String: Any]
                    #expect(export?["action"] as? String == "deny" && export?["rule_number"] as? Int == 1,
                            "policy test \(typed), rule by \(form)")
                }

                try Self.permitting.write(toFile: file, atomically: true, encoding: .utf8)
                daemon.send(SIGHUP)
                try await poll(timeout: .seconds(20), "the printer back on island two after the rule by \(form)") { crossed() }
            }
            await watcher.stop()
        }
    }

    /// `z2z COMMAND --json` on `host`, decoded loosely.
    static func json(_ bed: Testbed, _ host: HostRef, _ command: [String]) async throws -> [String: Any] {
        let output = try await bed.runChecked(host, [try BuildProducts.executable("z2z")] + command + ["--json"], timeout: .seconds(15))
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
    }
}
