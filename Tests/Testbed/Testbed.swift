import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Zeroconf islands for integration tests: N islands of K hosts, each host a Linux
/// network namespace with its own dbus-daemon and avahi-daemon, the islands joined by a
/// router that forwards unicast but not multicast — or, with a `Topology`, not joined by
/// it: overlapping LANs, gateway hosts on an uplink, islands behind NAT, link-local
/// islands. `Deploy/testbed` builds it (read its `--help`); this type drives it from a test.
///
/// Prefer the scoped form, which tears down also when the body throws:
///
///     try await Testbed.with(islands: 2, hosts: 2) { bed in
///         let publisher = try bed.spawn(.i(1, h: 1), ["avahi-publish", "-s", "P", "_ipp._tcp", "631"])
///         try await publisher.waitForLine(containing: "Established")
///         try await poll(timeout: .seconds(10), "P visible on i1h2") {
///             try await bed.run(.i(1, h: 2), ["avahi-browse", "-pt", "-k", "_ipp._tcp"]).stdout.contains("P")
///         }
///     }
///
/// Needs root. Every testbed is owned by the test process: if that process dies without
/// tearing down (a crash, a kill), the script's watcher tears down after it; leftovers
/// from anything else go with `Deploy/testbed down-all --stale`.
public final class Testbed: Sendable, CustomStringConvertible {
    /// The testbed's name, `z2z<pid>n<count>`; namespaces are `<name>-r`, `<name>-i1h1`, ...
    public let name: String
    public let islands: Int
    public let hostsPerIsland: Int
    /// How the islands reach each other (`.routed` unless given).
    public let topology: Topology
    /// State, each host's /run and logs (`<directory>/i1h1/avahi.log`).
    public let directory: String

    private let script: String
    private let table: [HostRef: Host]
    private let state = Mutex(State())

    private struct Host: Sendable {
        let namespace: String
        let ipv4: String
        let ipv6: String
        /// "-" for the NAT routers, which run no avahi-daemon.
        let hostName: String
        let uplinkIPv4: String?
        let uplinkIPv6: String?

        /// One line of the host table: HOST NETNS IPV4 IPV6 AVAHI-HOST-NAME, and with an
        /// uplink segment UPLINK-IPV4 UPLINK-IPV6 ("-" without a leg there).
        static func parse(_ line: String) -> (HostRef, Host)? {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 5 || fields.count == 7, let host = HostRef(testbedName: fields[0]) else { return nil }
            // An IPv6-only island's gateway hosts have "- V6" there.
            let uplink = fields.count == 7 && fields[6] != "-" ? (fields[5], fields[6]) : nil
            return (host, Host(
                namespace: fields[1], ipv4: fields[2], ipv6: fields[3], hostName: fields[4],
                uplinkIPv4: uplink?.0, uplinkIPv6: uplink?.1))
        }
    }

    private struct State {
        var isDown = false
        var spawned: [BackgroundProcess] = []
    }

    private static let counter = Atomic<Int>(0)

    private init(
        name: String, islands: Int, hostsPerIsland: Int, topology: Topology, script: String, table: [HostRef: Host]
    ) {
        self.name = name
        self.islands = islands
        self.hostsPerIsland = hostsPerIsland
        self.topology = topology
        self.script = script
        self.table = table
        let stateBase = ProcessInfo.processInfo.environment["Z2Z_TESTBED_STATE"].flatMap { $0.isEmpty ? nil : $0 }
        self.directory = (stateBase ?? "/tmp/z2z-testbed") + "/" + name
    }

    public var description: String {
        "\(name): \(islands) islands × \(hostsPerIsland) hosts" + (topology == .routed ? "" : ", \(topology)")
    }

    // MARK: lifetime

    /// Builds a testbed and waits until every host's avahi-daemon runs. Call `down()`
    /// when done, or use `with(islands:hosts:topology:_:)`. An owned testbed (the default)
    /// is torn down by the script's watcher when this process ends without doing it; one
    /// that is not owned stays until `down()` or `Deploy/testbed down NAME` (to look at it
    /// afterwards).
    public static func up(
        islands: Int = 1, hosts: Int = 2, topology: Topology = .routed, owned: Bool = true,
        timeout: Duration = .seconds(120)
    ) async throws -> Testbed {
        let script = Repository.testbedScript
        guard FileManager.default.fileExists(atPath: script) else {
            throw TestbedError.scriptNotFound(path: script)
        }
        let owner = getpid()
        var attempts = 0
        while true {
            attempts += 1
            let name = "z2z\(owner)n\(counter.add(1, ordering: .relaxed).newValue)"
            let arguments = ["up", name, "--islands", "\(islands)", "--hosts", "\(hosts)"] + topology.arguments
                + (owned ? ["--owner", "\(owner)"] : [])
            let result: ProcessResult
            do {
                result = try await runScript(script, arguments, timeout: timeout)
            } catch {
                await tearDown(name, script: script)
                throw error
            }
            // Exit 3: the name is taken, by a leftover of an earlier process with our pid.
            if result.exitCode == 3 && attempts < 100 { continue }
            guard result.succeeded else {
                await tearDown(name, script: script)
                throw TestbedError.commandFailed(result)
            }
            let table = Dictionary(result.lines.compactMap(Host.parse), uniquingKeysWith: { first, _ in first })
            guard table.count == islands * hosts + topology.masqueraded.count else {
                await tearDown(name, script: script)
                throw TestbedError.commandFailed(result)
            }
            return Testbed(
                name: name, islands: islands, hostsPerIsland: hosts, topology: topology, script: script, table: table)
        }
    }

    /// Builds a testbed, runs `body` with it and tears it down, also when `body` throws.
    public static func with<T>(
        islands: Int = 1, hosts: Int = 2, topology: Topology = .routed,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Testbed) async throws -> T
    ) async throws -> T {
        let bed = try await up(islands: islands, hosts: hosts, topology: topology)
        let value: T
        do {
            value = try await body(bed)
        } catch {
            do {
                try await bed.down()
            } catch let downError {
                FileHandle.standardError.write(Data("testbed \(bed.name): teardown failed: \(downError)\n".utf8))
            }
            throw error
        }
        try await bed.down()
        return value
    }

    /// Kills every process in the testbed (daemons, spawned and running commands), deletes
    /// its namespaces and directory. Runs to the end even when the task is cancelled.
    /// Idempotent.
    public func down() async throws {
        let spawned: [BackgroundProcess]? = state.withLock { state in
            guard !state.isDown else { return nil }
            state.isDown = true
            return state.spawned
        }
        guard let spawned else { return }
        let (name, script) = (self.name, self.script)
        // A task of its own: a cancelled test must still tear down.
        let result = try await Task {
            try await Self.runScript(script, ["down", name], timeout: .seconds(120))
        }.value
        // They lived in the namespaces and are gone; this only catches one that was still
        // in the machine's namespace on its way in.
        for process in spawned { process.kill() }
        guard result.succeeded else { throw TestbedError.commandFailed(result) }
    }

    private static func tearDown(_ name: String, script: String) async {
        _ = await Task { try? await runScript(script, ["down", name], timeout: .seconds(120)) }.value
    }

    /// Runs `Deploy/testbed` with `arguments` that concern no testbed of this process
    /// (`plan`, `list`, `--help`), and returns how it ended.
    public static func script(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> ProcessResult {
        try await runScript(Repository.testbedScript, arguments, timeout: timeout)
    }

    private static func runScript(_ script: String, _ arguments: [String], timeout: Duration) async throws -> ProcessResult {
        let child = try ChildProcess.launch(
            executable: "/bin/bash", arguments: [script] + arguments, command: ["Deploy/testbed"] + arguments)
        return try await child.finish(within: timeout)
    }

    // MARK: hosts

    /// Every host, island by island.
    public var hosts: [HostRef] {
        (1...islands).flatMap { island in (1...hostsPerIsland).map { HostRef.i(island, h: $0) } }
    }

    /// The hosts of one island.
    public func hosts(onIsland island: Int) -> [HostRef] {
        (1...hostsPerIsland).map { HostRef.i(island, h: $0) }
    }

    /// The host's addresses on its island (its `eth0`; a NAT router's `lan`). On a
    /// link-local island they are 169.254/16 and fe80 (add `%eth0` to use the latter); on
    /// an IPv6-only island v4 is "-".
    public func address(of host: HostRef) -> (v4: String, v6: String) {
        let entry = self[host]
        return (entry.ipv4, entry.ipv6)
    }

    /// The host's addresses on the uplink segment (its `uplink`), if it has a leg there:
    /// gateway hosts under `Topology.uplink`, except behind a NAT router.
    public func uplinkAddress(of host: HostRef) -> (v4: String, v6: String)? {
        let entry = self[host]
        guard let v4 = entry.uplinkIPv4, let v6 = entry.uplinkIPv6 else { return nil }
        return (v4, v6)
    }

    /// The outside (uplink) addresses of a masqueraded island's NAT router, which its
    /// hosts' connections leave from.
    public func natAddress(ofIsland island: Int) -> (v4: String, v6: String)? {
        table[.nat(island: island)] == nil ? nil : uplinkAddress(of: .nat(island: island))
    }

    /// The router's addresses on `island` (the NAT router's on a masqueraded island): the
    /// hosts' default gateway, where the island has one (`Topology`).
    public func gateway(ofIsland island: Int) -> (v4: String, v6: String) {
        let (v4, v6) = address(of: .i(island, h: 1))
        return (v4.split(separator: ".").dropLast().joined(separator: ".") + ".1",
                v6.split(separator: ":", omittingEmptySubsequences: false).dropLast().joined(separator: ":") + ":1")
    }

    /// The host name the host's avahi-daemon announces (add `.local`).
    public func hostName(of host: HostRef) -> String { self[host].hostName }

    /// The network namespace of a host or of a router, for `ip netns`.
    public func namespace(of host: HostRef) -> String {
        host == .router ? "\(name)-r" : self[host].namespace
    }

    /// The NAT routers of the masqueraded islands.
    public var natRouters: [HostRef] { topology.masqueraded.sorted().map { .nat(island: $0) } }

    /// The router's, the NAT routers' and every host's namespace.
    public var namespaces: [String] {
        ([.router] + natRouters + hosts).map { namespace(of: $0) }
    }

    /// The host's avahi-daemon log so far (for failure messages).
    public func avahiLog(_ host: HostRef) -> String {
        (try? String(contentsOfFile: "\(directory)/\(host)/avahi.log", encoding: .utf8)) ?? ""
    }

    private subscript(host: HostRef) -> Host {
        guard let entry = table[host] else {
            preconditionFailure("testbed \(name) (\(islands)×\(hostsPerIsland)) has no host \(host)")
        }
        return entry
    }

    private func checkUsable(_ host: HostRef) throws {
        guard host == .router || table[host] != nil else { throw TestbedError.noSuchHost(host, testbed: name) }
        guard !state.withLock({ $0.isDown }) else { throw TestbedError.alreadyDown(testbed: name) }
    }

    // MARK: running commands

    /// Runs `arguments` inside `host` (its network namespace and its /run, so Avahi's
    /// tools talk to that host's daemon) and returns how it ended. `input` is its stdin.
    /// At `timeout` the command is killed and `TestbedError.timedOut` thrown. The command
    /// must not leave children behind that hold its stdout (use `spawn` for those).
    public func run(
        _ host: HostRef, _ arguments: [String], input: String? = nil, timeout: Duration = .seconds(30)
    ) async throws -> ProcessResult {
        try checkUsable(host)
        let child = try ChildProcess.launch(
            executable: "/bin/bash", arguments: [script, "exec", name, "\(host)", "--"] + arguments,
            command: arguments, input: input.map { Data($0.utf8) })
        return try await child.finish(within: timeout)
    }

    /// Like `run`, but throws `TestbedError.commandFailed` unless the command succeeds;
    /// returns its stdout.
    @discardableResult
    public func runChecked(
        _ host: HostRef, _ arguments: [String], input: String? = nil, timeout: Duration = .seconds(30)
    ) async throws -> String {
        let result = try await run(host, arguments, input: input, timeout: timeout)
        guard result.succeeded else { throw TestbedError.commandFailed(result) }
        return result.stdout
    }

    /// Starts `arguments` inside `host` in the background. It runs until it exits, is
    /// stopped through the returned handle, or the testbed goes down.
    public func spawn(_ host: HostRef, _ arguments: [String]) throws -> BackgroundProcess {
        try checkUsable(host)
        let child = try ChildProcess.launch(
            executable: "/bin/bash", arguments: [script, "exec", name, "\(host)", "--"] + arguments,
            command: arguments)
        let process = BackgroundProcess(host: host, child: child)
        let lateForDown = state.withLock { state in
            state.spawned.append(process)
            return state.isDown
        }
        if lateForDown { process.kill() }
        return process
    }

    /// Like `spawn`, but the command's stdout and stderr are appended to the file `log`
    /// (a daemon that runs for an hour writes more than a test wants to keep in memory).
    public func spawn(_ host: HostRef, _ arguments: [String], log: String) throws -> BackgroundProcess {
        try spawn(host, ["sh", "-c", #"exec "$@" >>"$0" 2>&1"#, log] + arguments)
    }

    // MARK: Avahi

    /// Stops the host's avahi-daemon and waits until it is gone: SIGTERM (it says goodbye
    /// on the link), or with `hard` SIGKILL, as in a crash (its records linger in others'
    /// caches until they expire).
    public func killAvahi(_ host: HostRef, hard: Bool = false) async throws {
        try await avahiCommand(["kill-avahi", name, "\(host)"] + (hard ? ["--hard"] : []), host)
    }

    /// Starts the host's avahi-daemon and waits until it runs (host name established).
    public func startAvahi(_ host: HostRef) async throws {
        try await avahiCommand(["start-avahi", name, "\(host)"], host)
    }

    /// `killAvahi`, then `startAvahi`.
    public func restartAvahi(_ host: HostRef) async throws {
        try await avahiCommand(["restart-avahi", name, "\(host)"], host)
    }

    /// Stops the host's dbus-daemon, starts it again, and restarts its avahi-daemon (which
    /// exits when it loses the bus), as systemd would.
    public func restartDBus(_ host: HostRef) async throws {
        try await avahiCommand(["restart-dbus", name, "\(host)"], host)
    }

    // MARK: faults

    /// Cuts island `island` off the router and the uplink segment (its link keeps
    /// working), or heals the cut.
    public func wan(island: Int, cut: Bool) async throws {
        try await faultCommand(["wan", name, "\(island)", cut ? "cut" : "heal"])
    }

    /// Takes the host's link (eth0) down or up.
    public func link(_ host: HostRef, up: Bool) async throws {
        try checkUsable(host)
        try await faultCommand(["link", name, "\(host)", up ? "up" : "down"])
    }

    /// Drops `percent` % of the datagrams the router forwards from or to `island` and of
    /// the frames of its legs on the uplink segment, at random (0 removes the rule); the
    /// island's own link stays lossless.
    public func loss(island: Int, percent: Int) async throws {
        try await faultCommand(["loss", name, "\(island)", "\(percent)"])
    }

    /// Gives `host` a second interface (eth1) on `island`'s link.
    public func attach(_ host: HostRef, island: Int) async throws {
        try checkUsable(host)
        try await faultCommand(["attach", name, "\(host)", "\(island)"])
    }

    /// Makes the host's avahi-daemon an mDNS reflector between all its interfaces, or not,
    /// and waits until it runs again.
    public func reflector(_ host: HostRef, on: Bool) async throws {
        try await avahiCommand(["reflector", name, "\(host)", on ? "on" : "off"], host)
    }

    /// Restarts the host's avahi-daemon with these limits (`objects-per-client-max`,
    /// `clients-max`) and waits until it runs: a daemon that refuses objects on purpose.
    public func avahiLimits(_ host: HostRef, objectsPerClient: Int, clients: Int) async throws {
        try await avahiCommand(["avahi-limits", name, "\(host)", "\(objectsPerClient)", "\(clients)"], host)
    }

    private func faultCommand(_ arguments: [String]) async throws {
        guard !state.withLock({ $0.isDown }) else { throw TestbedError.alreadyDown(testbed: name) }
        let result = try await Self.runScript(script, arguments, timeout: .seconds(30))
        guard result.succeeded else { throw TestbedError.commandFailed(result) }
    }

    private func avahiCommand(_ arguments: [String], _ host: HostRef) async throws {
        try checkUsable(host)
        let result = try await Self.runScript(script, arguments, timeout: .seconds(60))
        guard result.succeeded else { throw TestbedError.commandFailed(result) }
    }
}

extension HostRef {
    /// Parses the testbed's spelling: `i1h2`, `router`, `n3`.
    init?(testbedName text: String) {
        if text == "router" {
            self = .router
            return
        }
        if text.hasPrefix("n"), let island = Int(text.dropFirst()), island > 0 {
            self = .nat(island: island)
            return
        }
        guard text.hasPrefix("i"), let h = text.firstIndex(of: "h"),
              let island = Int(text[text.index(after: text.startIndex)..<h]),
              let index = Int(text[text.index(after: h)...])
        else { return nil }
        self = .host(island: island, index: index)
    }
}
