import Foundation
import Testbed
import Testing

/// The local API under connection exhaustion (issue 18, point 4): 5,000 idle or half-sent
/// connections were held for 45 s and more, and at the descriptor limit z2zd spun at 100 %
/// CPU while `z2z status` timed out. Now the daemon raises its descriptor limit, stops
/// accepting before it runs out, and closes connections that send nothing for 10 s.
@Suite(.serialized) struct APIHardeningIntegrationTests {
    /// Opens COUNT connections to the API (half of them with half a request line), prints
    /// "open N", then after each second "closed K" (how many the server has closed).
    static let holder = #"""
        import resource, socket, sys, time
        count, port = int(sys.argv[1]), int(sys.argv[2])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1024), hard))
        held = []
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2:
                s.sendall(b"GET /api/v1/status HT")
            s.setblocking(False)
            held.append(s)
        print("open", len(held), flush=True)
        for _ in range(40):
            time.sleep(1)
            closed = 0
            for s in held:
                try:
                    if s.recv(1) == b"":
                        closed += 1
                except BlockingIOError:
                    pass
                except OSError:
                    closed += 1
            print("closed", closed, flush=True)
            if closed == len(held):
                break
        """#

    @Test(.timeLimit(.minutes(3)))
    func tenThousandIdleConnectionsLeaveStatusAnsweringAndAreClosedAfterTheIdleTimeout() async throws {
        try await Testbed.with(islands: 1, hosts: 1) { bed in
            let gateway = try Gateway.start(bed, .i(1, h: 1), island: "one", seed: nil)
            try await poll(timeout: .seconds(30), every: .milliseconds(250), "z2zd's API") {
                (try? await gateway.status(bed, degradedToo: true)["role"]) != nil
            }
            let count = 10_000
            let holder = try bed.spawn(.i(1, h: 1), ["/usr/bin/python3", "-u", "-c", Self.holder, String(count), "7401"])
            let opened = ContinuousClock.now
            try await holder.waitForLine(containing: "open \(count)", timeout: .seconds(60))

            // `z2z status` while they are all held: answered at once. Timed inside the host,
            // as a person there sees it (the testbed's way into the namespace is not counted),
            // three times one after another; the median counts (one of 255 ms alone was 551 ms
            // once, with a benchmark running beside the whole suite on two cores).
            let z2z = try BuildProducts.executable("z2z")
            var times: [Int] = []
            for _ in 0..<3 {
                let result = try await bed.run(.i(1, h: 1), ["bash", "-c", """
                    start=$(date +%s%N); "$0" status --json >/dev/null; code=$?; echo "$code $(( ($(date +%s%N) - start) / 1000000 ))"
                    """, z2z], timeout: .seconds(10))
                let fields = result.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                let (code, took) = (fields.first ?? -1, fields.count > 1 ? fields[1] : Int.max)
                #expect([0, 2].contains(code), "\(result)")
                times.append(took)
            }
            let median = times.sorted()[1]
            print("z2z status with \(count) idle connections held: \(times.map { "\($0) ms" }.joined(separator: ", ")) (median \(median) ms)")
            #expect(median < 500, "z2z status took \(times) ms with \(count) idle connections")

            // The server closes them all once they have been idle for its timeout (10 s).
            let line = try await holder.waitForLine(timeout: .seconds(40)) { $0 == "closed \(count)" }
            print("all \(count) closed by z2zd \(ContinuousClock.now - opened) after they were opened: \(line)")
            await holder.stop()
            await gateway.process.stop()
        }
    }

    /// Posts COUNT small configurations to `/config/check` over one kept-alive connection;
    /// prints the daemon's (PID) resident KiB after the first WARM posts and at the end as
    /// "rss N KiB" lines, and "bad N" on an unexpected answer.
    static let poster = #"""
        import http.client, sys, time
        count, warm, port, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        def rss():
            for line in open("/proc/%s/status" % pid):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        texts = [b'log_level = "debug"\n', b'log_level = "loud"\n', b'[dht]\nport = 99999\n']
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(count):
            connection.request("POST", "/api/v1/config/check", body=texts[i % 3], headers={"Content-Type": "application/toml"})
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or (b'"ok":true' in body) != (i % 3 == 0):
                print("bad", i, response.status, body[:200], flush=True)
                sys.exit(1)
            if i + 1 == warm:
                print("rss", rss(), "KiB after", warm, flush=True)
                started = time.monotonic()
        print("rss", rss(), "KiB after", count, "in %.1f s" % (time.monotonic() - started), flush=True)
        """#

    /// TOMLKit leaks ~2 KiB per parse; the daemon parses posted configurations in a child it
    /// replaces every 1,000 checks, so its own memory stays flat (issue 18, point 3:
    /// 52 → 315 MB after 120,000 posts before).
    @Test(.timeLimit(.minutes(5)))
    func manyConfigurationChecksLeaveTheDaemonsMemoryFlat() async throws {
        try await Testbed.with(islands: 1, hosts: 1) { bed in
            let gateway = try Gateway.start(bed, .i(1, h: 1), island: "one", seed: nil)
            try await poll(timeout: .seconds(30), every: .milliseconds(250), "z2zd's API") {
                (try? await gateway.status(bed, degradedToo: true)["role"]) != nil
            }
            let count = Int(ProcessInfo.processInfo.environment["Z2Z_CONFIG_CHECKS"] ?? "") ?? 100_000
            let warm = min(2_000, count)
            let poster = try bed.spawn(.i(1, h: 1), ["/usr/bin/python3", "-u", "-c", Self.poster, String(count), String(warm),
                                                     "7401", String(gateway.process.pid)])
            let first = try await poster.waitForLine(containing: "after \(warm)", timeout: .seconds(60))
            let last = try await poster.waitForLine(timeout: .seconds(240)) { $0.contains("after \(count)") || $0.hasPrefix("bad") }
            let before = Self.kibibytes(first), after = Self.kibibytes(last)
            let checkers = Self.children(of: gateway.process.pid).count
            print("config checks: z2zd \(first); \(last); checker children now \(checkers)")
            #expect(after != .max && before != .max && after - before < 16 * 1024, "z2zd grew over \(count - warm) checks: \(first) → \(last)")
            #expect(checkers <= 1)
            await poster.stop()
            await gateway.process.stop()
        }
    }

    /// N of an "rss N KiB …" line; Int.max for anything else (a "bad" line fails the bound).
    static func kibibytes(_ line: String) -> Int {
        let words = line.split(separator: " ")
        return words.count > 1 && words[0] == "rss" ? Int(words[1]) ?? .max : .max
    }

    /// Living child processes of `pid`.
    static func children(of pid: Int32) -> [Int32] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
