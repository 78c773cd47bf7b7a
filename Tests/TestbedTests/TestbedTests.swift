import Foundation
import Testbed
import Testing

/// The testbed's promises: mDNS stays on its island, unicast crosses the router, each
/// host's Avahi can be stopped and started, and teardown leaves nothing behind.
@Suite("Testbed") struct TestbedTests {
    @Test func mdnsStaysOnItsIsland() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let one = try bed.spawn(.i(1, h: 1), ["avahi-publish", "-s", "Island One Printer", "_ipp._tcp", "631", "island=1"])
            let two = try bed.spawn(.i(2, h: 2), ["avahi-publish", "-s", "Island Two Printer", "_ipp._tcp", "632"])
            try await one.waitForErrorLine(containing: "Established")
            try await two.waitForErrorLine(containing: "Established")

            let publisher = bed.address(of: .i(1, h: 1))
            let expected = "=;eth0;IPv4;Island\\032One\\032Printer;_ipp._tcp;local;"
                + "\(bed.hostName(of: .i(1, h: 1))).local;\(publisher.v4);631;\"island=1\""
            try await poll(timeout: .seconds(15), "i1h2 resolves the printer of i1h1") {
                try await browse(bed, .i(1, h: 2)).contains(expected)
            }
            try await poll(timeout: .seconds(15), "i2h1 sees the printer of i2h2") {
                try await browse(bed, .i(2, h: 1)).contains { $0.contains("Island\\032Two\\032Printer") }
            }

            // Both links work, and each browse waited for its daemon's "all for now":
            // what is not there now did not cross the router.
            #expect(try await !browse(bed, .i(2, h: 1)).contains { $0.contains("Island\\032One") })
            #expect(try await !browse(bed, .i(1, h: 2)).contains { $0.contains("Island\\032Two") })
        }
    }

    @Test func unicastCrossesTheRouterUnchanged() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            // Prints each connection's source address, so NAT or a proxy would show.
            let listener = try bed.spawn(.i(2, h: 1), ["python3", "-u", "-c", """
                import socket
                s = socket.socket(socket.AF_INET6)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                s.bind(("::", 7000)); s.listen()
                print("listening")
                while True:
                    c, a = s.accept(); print(a[0].removeprefix("::ffff:"), c.recv(100).decode().strip()); c.close()
                """])
            try await listener.waitForLine(containing: "listening")
            let target = bed.address(of: .i(2, h: 1))

            try await bed.runChecked(.i(1, h: 1), ["bash", "-c", "echo hello-v4 >/dev/tcp/\(target.v4)/7000"])
            try await bed.runChecked(.i(1, h: 2), ["bash", "-c", "echo hello-v6 >/dev/tcp/\(target.v6)/7000"])

            try await listener.waitForLine { $0 == "\(bed.address(of: .i(1, h: 1)).v4) hello-v4" }
            try await listener.waitForLine { $0 == "\(bed.address(of: .i(1, h: 2)).v6) hello-v6" }
            await listener.stop()

            // The hosts' default route is the router, on their own island.
            let routes = try await bed.runChecked(.i(2, h: 2), ["ip", "route", "show", "default"])
            #expect(routes.contains("via \(bed.gateway(ofIsland: 2).v4) dev eth0"))
        }
    }

    @Test func execPassesStreamsAndExitStatus() async throws {
        try await Testbed.with(islands: 1, hosts: 1) { bed in
            let result = try await bed.run(.i(1, h: 1), ["sh", "-c", "cat; echo oops >&2; exit 7"], input: "in\n")
            #expect(result.exitCode == 7)
            #expect(result.stdout == "in\n")
            #expect(result.stderr == "oops\n")

            // Each host has its own /run: its own avahi-daemon pid file, not the machine's.
            let pid = try await bed.runChecked(.i(1, h: 1), ["cat", "/run/avahi-daemon/pid"])
            let ours = try String(contentsOfFile: "\(bed.directory)/i1h1/avahi.pid", encoding: .utf8)
            #expect(pid == ours)

            await #expect(throws: TestbedError.self) {
                try await bed.run(.i(1, h: 1), ["sleep", "30"], timeout: .milliseconds(300))
            }

            // Signals reach spawned commands with their default effect (the test runner's
            // threads block SIGTERM; a child must not inherit that).
            let sleeper = try bed.spawn(.i(1, h: 1), ["sleep", "30"])
            try await poll(timeout: .seconds(5), "sleep runs") {
                (try? String(contentsOfFile: "/proc/\(sleeper.pid)/cmdline", encoding: .utf8))?.hasPrefix("sleep") == true
            }
            sleeper.terminate()
            #expect(try await sleeper.wait(timeout: .seconds(5)).signal == SIGTERM)
            await #expect(throws: TestbedError.self) {
                try await bed.run(.i(1, h: 2), ["true"])
            }
        }
    }

    @Test func avahiCanBeKilledAndStartedAgain() async throws {
        try await Testbed.with(islands: 1, hosts: 1) { bed in
            let host = HostRef.i(1, h: 1)
            try await bed.killAvahi(host, hard: true)
            let refused = try await bed.run(host, ["avahi-browse", "-at"])
            #expect(!refused.succeeded)
            #expect(refused.stderr.contains("Daemon not running"))

            try await bed.startAvahi(host)
            try await bed.runChecked(host, ["avahi-browse", "-at"])

            try await bed.restartAvahi(host)
            try await bed.runChecked(host, ["avahi-browse", "-at"])
        }
    }

    @Test func downLeavesNoNamespaceAndNoProcess() async throws {
        let (bed, inodes, sleeper) = try await Testbed.with(islands: 2, hosts: 1) { bed in
            let inodes = Set(bed.namespaces.compactMap { namespaceInode("/run/netns/\($0)") })
            #expect(inodes.count == bed.namespaces.count)

            let sleeper = try bed.spawn(.i(1, h: 1), ["sleep", "1000"])
            // A process that leaves its process group and session, as daemons do.
            let escaped = try await bed.runChecked(
                .i(2, h: 1), ["sh", "-c", "setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!"])
            try await poll(timeout: .seconds(5), "the spawned sleep runs in i1h1") {
                processesIn(inodes).contains(sleeper.pid)
            }
            let running = processesIn(inodes)
            #expect(running.contains(try #require(Int32(escaped.trimmingCharacters(in: .whitespacesAndNewlines)))))
            #expect(running.count >= 2 * 2 + 2) // dbus and avahi per host, and the two sleeps
            return (bed, inodes, sleeper)
        }

        #expect(processesIn(inodes).isEmpty)
        #expect(Set(try listedNamespaces()).isDisjoint(with: bed.namespaces))
        #expect(!FileManager.default.fileExists(atPath: bed.directory))
        let ended = try await sleeper.wait(timeout: .seconds(5))
        #expect(ended.signal != nil)
        try await bed.down() // idempotent
    }

    @Test func failingBodyStillTearsDown() async throws {
        struct Planned: Error {}
        let seen = Seen()
        await #expect(throws: Planned.self) {
            try await Testbed.with(islands: 1, hosts: 1) { bed in
                seen.set(bed.namespaces, bed.directory)
                _ = try bed.spawn(.i(1, h: 1), ["sleep", "1000"])
                throw Planned()
            }
        }
        let (namespaces, directory) = try #require(seen.value)
        #expect(Set(try listedNamespaces()).isDisjoint(with: namespaces))
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test func pollReturnsOnceTrueAndThrowsAtDeadline() async throws {
        let start = ContinuousClock.now
        var calls = 0
        try await poll(timeout: .seconds(5), every: .milliseconds(10)) {
            calls += 1
            return calls == 3
        }
        #expect(calls == 3)
        #expect(ContinuousClock.now - start < .seconds(4), "returned at once, not at the 5 s deadline")

        await #expect(throws: TestbedError.self) {
            try await poll(timeout: .milliseconds(200), every: .milliseconds(20), "never") { false }
        }
        let value = try await pollValue(timeout: .seconds(1)) { calls > 0 ? calls : nil }
        #expect(value == 3)
    }

    @Test func builtProductsAreFound() throws {
        let z2z = try BuildProducts.executable("z2z")
        #expect(FileManager.default.isExecutableFile(atPath: z2z))
        #expect(throws: TestbedError.self) { try BuildProducts.executable("no-such-product") }
    }
}

// MARK: helpers

/// `avahi-browse -rpt -k _ipp._tcp` on `host`: resolved and unresolved lines.
private func browse(_ bed: Testbed, _ host: HostRef) async throws -> [String] {
    try await bed.runChecked(host, ["avahi-browse", "-rpt", "-k", "_ipp._tcp"]).split(separator: "\n").map(String.init)
}

private func listedNamespaces() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: "/run/netns")
}

private func namespaceInode(_ path: String) -> UInt64? {
    var info = stat()
    return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
}

/// Live (not zombie) processes whose network namespace is one of `inodes`.
private func processesIn(_ inodes: Set<UInt64>) -> Set<Int32> {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return Set(entries.compactMap { entry -> Int32? in
        guard let pid = Int32(entry),
              let inode = namespaceInode("/proc/\(entry)/ns/net"), inodes.contains(inode),
              let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let state = stat.split(separator: ")").last?.split(separator: " ").first,
              state != "Z", state != "X"
        else { return nil }
        return pid
    })
}

/// What a testbed body saw, for assertions after it threw.
private final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: ([String], String)?
    func set(_ namespaces: [String], _ directory: String) { lock.withLock { stored = (namespaces, directory) } }
    var value: ([String], String)? { lock.withLock { stored } }
}
