import Foundation
import Testbed
import Testing

/// The operator's view of real z2zd processes on real avahi-daemons in network namespaces:
/// `z2z explain` on a permitted, a denied and a withdrawn service; the API against
/// Deploy/openapi.json; `/metrics` through a strict Prometheus text parser; the dashboard in
/// headless Chromium showing a service of another island; READY=1 over NOTIFY_SOCKET.
/// Every wait is a poll with a deadline.
@Suite(.serialized) struct OperationsIntegrationTests {
    static func configuration(island: String) -> String {
        """
        [island]
        name = "\(island)"

        [policy]
        default = "permit"

        [[policy.rule]]
        action = "deny"
        direction = "export"
        type = "_ssh._tcp"
        comment = "no remote shells"
        """
    }

    /// `z2z explain SERVICE --json` on `host`, decoded loosely.
    static func explain(_ bed: Testbed, _ host: HostRef, _ service: String) async throws -> [String: Any] {
        let result = try await bed.run(host, [try BuildProducts.executable("z2z"), "explain", service, "--json"], timeout: .seconds(15))
        guard [0, 3].contains(result.exitCode) else { throw TestbedError.commandFailed(result) }
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    static func traces(_ answer: [String: Any]) -> [[String: Any]] { answer["traces"] as? [[String: Any]] ?? [] }

    /// An HTTP request made with curl inside the host's namespace (the API listens on its loopback).
    static func curl(_ bed: Testbed, _ host: HostRef) -> OpenAPIContract.Fetch {
        { method, url, body, contentType in
            let marker = "\n--z2z-status--"
            var arguments = ["curl", "-sS", "-m", "20", "-X", method, "-w", "\(marker)%{http_code} %{content_type}", url.absoluteString]
            if let contentType { arguments += ["-H", "Content-Type: \(contentType)", "--data-binary", "@-"] }
            let output = try await bed.runChecked(host, arguments, input: body.map { String(decoding: $0, as: UTF8.self) },
                                                  timeout: .seconds(30))
            guard let range = output.range(of: marker, options: .backwards) else {
                return OpenAPIContract.Answer(status: 0, contentType: "", body: Data(output.utf8))
            }
            let trailer = output[range.upperBound...].split(separator: " ", maxSplits: 1)
            return OpenAPIContract.Answer(status: Int(trailer.first ?? "") ?? 0, contentType: trailer.count > 1 ? String(trailer[1]) : "",
                                          body: Data(output[..<range.lowerBound].utf8))
        }
    }

    static var artifacts: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("artifacts")
    }

    @Test(.timeLimit(.minutes(4)))
    func explainTheAPIMetricsDashboardAndReadinessAgainstRealDaemons() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let one = HostRef.i(1, h: 1), two = HostRef.i(2, h: 1)
            // systemd's side of sd_notify: a datagram socket that prints what it receives.
            let socket = "\(bed.directory)/\(one)/notify.sock"
            let systemd = try bed.spawn(one, ["/usr/bin/python3", "-u", "-c", """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print("bound")
                while True: print(s.recv(4096).decode().replace("\\n", " | "))
                """, socket])
            try await systemd.waitForLine(containing: "bound")

            let started = ContinuousClock.now
            var daemons: [BackgroundProcess] = []
            for (host, island, seed) in [(one, "one", two), (two, "two", one)] {
                let file = "\(bed.directory)/\(host)/z2z.toml"
                try Self.configuration(island: island).write(toFile: file, atomically: true, encoding: .utf8)
                // Island one's daemon runs as under systemd (Type=notify, WatchdogSec=2).
                let environment = host == one ? ["env", "NOTIFY_SOCKET=\(socket)", "WATCHDOG_USEC=2000000"] : []
                daemons.append(try bed.spawn(host, environment + Gateway.daemonArguments(bed, host) + [
                    "--config", file, "--bootstrap", "\(bed.address(of: seed).v4):7400",
                ]))
            }
            let ready = try await systemd.waitForLine(containing: "READY=1", timeout: .seconds(60))
            #expect(ready.contains("STATUS=leader on island one"), "\(ready)")
            print("operations: READY=1 \(ContinuousClock.now - started) after z2zd started")
            try await systemd.waitForLine(containing: "WATCHDOG=1", timeout: .seconds(10))

            let device = HostRef.i(1, h: 2)
            let printer = try bed.spawn(device, ["avahi-publish", "-s", "Office Printer", "_ipp._tcp", "631", "note=lab"])
            let ssh = try bed.spawn(device, ["avahi-publish", "-s", "Build Box", "_ssh._tcp", "22"])
            let scanner = try bed.spawn(device, ["avahi-publish", "-s", "Scanner", "_uscan._tcp", "80"])
            for publisher in [printer, ssh, scanner] { try await publisher.waitForErrorLine(containing: "Established") }

            // Permitted: crosses; island two says where it came from and under which name it is published.
            let crossed = try await pollValue(timeout: .seconds(60), "the printer crossing") {
                let trace = Self.traces(try await Self.explain(bed, one, "Office Printer._ipp._tcp")).first
                return trace?["crossed"] as? Bool == true ? trace : nil
            }
            let steps = crossed["steps"] as? [[String: Any]] ?? []
            #expect(steps.map { $0["step"] as? String } == ["seen_locally", "export_policy", "exported", "in_dht", "seen_by_leaders"])
            #expect((steps.last?["detail"] as? String ?? "").contains("two"), "\(steps)")
            let inbound = try await pollValue(timeout: .seconds(30), "the printer imported on island two") {
                let trace = Self.traces(try await Self.explain(bed, two, "_ipp._tcp")).first
                return trace?["crossed"] as? Bool == true ? trace : nil
            }
            #expect(inbound["direction"] as? String == "inbound")
            #expect((inbound["verdict"] as? String ?? "").contains("Office Printer"), "\(inbound)")
            let asked = ContinuousClock.now
            let human = try await bed.run(two, [try BuildProducts.executable("z2z"), "explain", "Office Printer"])
            print("operations: z2z explain (process start, API, DHT get) took \(ContinuousClock.now - asked)")
            #expect(human.exitCode == 0 && human.stdout.contains("=> crosses"), "\(human)")

            // Denied: stops at the export policy, naming the rule; and explain exits 3.
            let denied = try #require(Self.traces(try await Self.explain(bed, one, "Build Box")).first)
            #expect(denied["crossed"] as? Bool == false)
            #expect((denied["verdict"] as? String ?? "").contains("stops at export_policy: denied by rule 1"), "\(denied)")
            let deniedHuman = try await bed.run(one, [try BuildProducts.executable("z2z"), "explain", "Build Box._ssh._tcp"])
            #expect(deniedHuman.exitCode == 3 && deniedHuman.stdout.contains("STOP export policy"), "\(deniedHuman)")

            // Withdrawn: stops on the link with when it left; island two says its island removed it.
            _ = try await pollValue(timeout: .seconds(30), "the scanner crossing") {
                Self.traces(try await Self.explain(bed, one, "Scanner")).first?["crossed"] as? Bool == true ? true : nil
            }
            scanner.terminate()
            let withdrawn = try await pollValue(timeout: .seconds(15), "the scanner withdrawn") {
                let trace = Self.traces(try await Self.explain(bed, one, "Scanner._uscan._tcp")).first
                return (trace?["verdict"] as? String)?.hasPrefix("stops at seen_locally: withdrawn at") == true ? trace : nil
            }
            #expect(withdrawn["crossed"] as? Bool == false)
            _ = try await pollValue(timeout: .seconds(15), "island two explaining the withdrawal") {
                let trace = Self.traces(try await Self.explain(bed, two, "Scanner._uscan._tcp")).first
                return (trace?["verdict"] as? String)?.contains("withdrawn") == true ? true : nil
            }

            // The API as documented, against the real daemon.
            let violations = await (try OpenAPIContract()).check(base: "http://127.0.0.1:7401", fetch: Self.curl(bed, two))
            #expect(violations.isEmpty, "\(violations.map(\.description).joined(separator: "\n"))")

            // /metrics: parsed strictly, with the state and counters of this run.
            let metricsText = try await bed.runChecked(one, ["curl", "-sS", "-m", "10", "http://127.0.0.1:7401/metrics"])
            let metrics = try PrometheusText(metricsText)
            #expect(metrics.value("z2z_leader") == 1)
            #expect(metrics.value("z2z_exports_total", ["result": "exported"]) ?? 0 >= 2)
            #expect(metrics.value("z2z_exports_total", ["result": "denied_by_policy"]) ?? 0 >= 1)
            #expect(metrics.value("z2z_services", ["origin": "local"]) ?? 0 >= 2)
            #expect(metrics.value("z2z_dht_peers") ?? 0 >= 1)
            #expect(metrics.samples.contains { $0.name == "z2z_rendezvous_operation_duration_seconds_count" && $0.value > 0 })

            // The dashboard on island two, in headless Chromium: the printer of island one is in its table.
            try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
            let screenshot = Self.artifacts.appendingPathComponent("dashboard.png").path
            try? FileManager.default.removeItem(atPath: screenshot)
            let chromium = ["timeout", "60", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--no-first-run", "--user-data-dir=\(bed.directory)/\(two)/chromium", "--window-size=1280,900",
                            "--virtual-time-budget=3000"]
            // Streams of one second: see Dashboard (a pending request stops virtual time).
            let page = "http://127.0.0.1:7401/?stream_seconds=1"
            let dom = try await pollValue(timeout: .seconds(60), "the printer in the dashboard's table") {
                let page = try await bed.runChecked(two, chromium + ["--dump-dom", page], timeout: .seconds(70))
                return page.contains(#"data-name="Office Printer" data-origin="imported" data-island="one""#) ? page : nil
            }
            #expect(dom.contains("<svg id=\"islands\""))
            #expect(dom.contains("data-kind=\"imported\""), "the event log shows the import")
            #expect(dom.contains("id=\"events\" data-live="), "the event stream was opened")
            try await bed.runChecked(two, chromium + ["--screenshot=\(screenshot)", page], timeout: .seconds(70))
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "screenshot at \(screenshot)")

            for daemon in daemons {
                let stopped = await daemon.stop(grace: .seconds(10))
                #expect(stopped.exitCode == 0, "\(stopped)")
            }
            try await systemd.waitForLine(containing: "STOPPING=1", timeout: .seconds(5))
        }
    }
}
