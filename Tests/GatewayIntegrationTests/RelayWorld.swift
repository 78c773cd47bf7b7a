import DNSSD
import Foundation
import Gateway
import Testbed
import Testing

/// One relay test's gateways, publishers and browse watchers on a testbed, and what every
/// relay test asks of them: start gateways with the relay on, publish, find an import, hold
/// it to what a relayed import must be — and say, when something fails, what the gateways
/// and the watching hosts saw (`diagnosis`).
final class RelayWorld {
    let bed: Testbed
    private(set) var gateways: [Gateway] = []
    private(set) var watchers: [BrowseWatcher] = []
    /// What each publication was given, by instance name: its TXT strings.
    private var published: [String: [String]] = [:]

    init(_ bed: Testbed) { self.bed = bed }

    /// The `[relay]` section the gateways run with: auto mode, as shipped. Nobody tells them
    /// whether a LAN is routed; for UDP services they find out (the exporting leader's relay
    /// answers at its LAN address, or not).
    var relayConfiguration: String {
        "[relay]\nmode = \"auto\"\n"
    }

    /// Starts z2zd on `host` with the relay on; `seed` is found on its uplink leg if it has one.
    @discardableResult
    func start(_ host: HostRef, island: String, seed: HostRef?, priority: Int = 100) throws -> Gateway {
        let gateway = try Gateway.start(bed, host, island: island, seed: seed, priority: priority, config: relayConfiguration)
        gateways.append(gateway)
        return gateway
    }

    /// One gateway on h1 of each island, islands 2... seeded by island 1's, island 1's by island 2's.
    func startOneGatewayPerIsland() throws {
        for island in 1...bed.islands {
            try start(.i(island, h: 1), island: "island-\(island)", seed: .i(island == 1 ? 2 : 1, h: 1))
        }
    }

    /// An `avahi-browse -arpk` on `host`, kept for the diagnosis.
    func watch(_ host: HostRef) throws -> BrowseWatcher {
        let watcher = try BrowseWatcher(bed, host, type: nil)
        watchers.append(watcher)
        return watcher
    }

    /// `avahi-publish -s` on `host`, once established; stop it to withdraw the service.
    func publish(_ host: HostRef, _ name: String, _ type: String, port: Int, txt: [String] = [],
                 isolation: isolated (any Actor)? = #isolation) async throws -> BackgroundProcess {
        let txt = txt.isEmpty ? ["note=\(name) on \(host)"] : txt
        let publisher = try bed.spawn(host, ["avahi-publish", "-s", name, type, String(port)] + txt)
        try await publisher.waitForErrorLine(containing: "Established")
        published[name] = txt
        return publisher
    }

    /// The host's LAN addresses (eth0), as avahi-browse prints them.
    func lanAddresses(_ host: HostRef) -> Set<IPAddress> {
        let (v4, v6) = bed.address(of: host)
        return Set([v4, v6].compactMap { try? IPAddress($0) })
    }

    /// The import of `name` (type `type`) as `watcher`'s host resolves it on `leader`'s LAN
    /// address — published by the relay of that leader. Throws at once when it resolves to
    /// any other address first: a client would have cached that one.
    func relayedImport(_ name: String, _ type: String, on watcher: BrowseWatcher, through leader: HostRef,
                       timeout: Duration = .seconds(30), isolation: isolated (any Actor)? = #isolation) async throws -> BrowseLine {
        let addresses = lanAddresses(leader)
        let found = try await pollValue(timeout: timeout, "\(name) on \(watcher.host), relayed through \(leader)") {
            watcher.present.first { line in line.id.name.value == name && line.id.type.description == type }
        }
        guard let resolution = found.resolution, addresses.contains(resolution.address) else {
            throw RelayTestFailure(what: "\(name) on \(watcher.host) resolved to \(found.resolution.map { "\($0.address) port \($0.port)" } ?? "-"), "
                                   + "not to \(leader)'s address \(addresses.map(\.description).sorted())")
        }
        return found
    }

    /// Everything a relayed import must be, as seen from `client`: every resolution of it
    /// (IPv4 and IPv6) on a synthesized host at `leader`'s LAN address and one port, never
    /// the service's own address; the TXT as published; its host name resolving to the
    /// leader (`avahi-resolve`); z2zd on the leader listening on that port; and the leader
    /// saying it relays the import for `reason` (`z2z services`).
    func expectRelayed(_ line: BrowseLine, on watcher: BrowseWatcher, through leader: HostRef, because reason: String,
                       sourceLocation: SourceLocation = #_sourceLocation,
                       isolation: isolated (any Actor)? = #isolation) async throws {
        let resolution = try #require(line.resolution)
        let name = line.id.name.value
        let leaderAddresses = lanAddresses(leader)
        let resolutions = watcher.present.filter { $0.id == line.id }.compactMap(\.resolution)
        await check(resolutions.allSatisfy { leaderAddresses.contains($0.address) && $0.port == resolution.port },
                    "every resolution of \(name) on \(watcher.host) is \(leader)'s address and one port: \(Self.describe(resolutions))",
                    sourceLocation: sourceLocation)
        await check(SynthesizedHost.isSynthesized(resolution.host), "\(name) on a synthesized host: \(resolution.host)",
                    sourceLocation: sourceLocation)
        if let txt = published[name] {
            // Sorted: avahi-browse need not print the strings in the order they were published.
            let strings = resolution.txt.strings.map { String(decoding: $0, as: UTF8.self) }
            await check(strings.sorted() == txt.sorted(), "\(name)'s TXT crossed as published: \(strings), published \(txt)",
                        sourceLocation: sourceLocation)
        }
        let address = try await resolve(resolution.host, on: watcher.host)
        await check(address.map(leaderAddresses.contains) == true,
                    "avahi-resolve on \(watcher.host): \(resolution.host) is \(address.map { "\($0)" } ?? "nothing"), not \(leader)'s address",
                    sourceLocation: sourceLocation)
        let udp = line.id.type.transport == .udp
        let sockets = try await bed.runChecked(leader, ["ss", "-Hlnp", udp ? "-u" : "-t", "sport = :\(resolution.port)"])
        await check(sockets.contains("\"z2zd\""),
                    "z2zd on \(leader) listens on \(udp ? "UDP" : "TCP") port \(resolution.port): \(sockets)",
                    sourceLocation: sourceLocation)
        let route = try await self.route(of: name, on: leader)
        await check(route == "relayed \(reason)", "\(leader)'s z2z services says \(name) is \(route ?? "not listed"), not relayed \(reason)",
                    sourceLocation: sourceLocation)
    }

    /// Resolutions as a failure message reads them: `address port N`.
    static func describe(_ resolutions: [BrowseLine.Resolution]) -> String {
        resolutions.map { "\($0.host.value) \($0.address) port \($0.port)" }.joined(separator: ", ")
    }

    /// The IPv4 address `avahi-resolve -4 -n` on `client` finds for `host`; the IPv6 one
    /// (`-6`) on an IPv6-only island.
    func resolve(_ host: HostName, on client: HostRef, isolation: isolated (any Actor)? = #isolation) async throws -> IPAddress? {
        let family = bed.address(of: client).v4 == "-" ? "-6" : "-4"
        let resolved = try await bed.runChecked(client, ["avahi-resolve", family, "-n", host.value], timeout: .seconds(10))
        return resolved.split(whereSeparator: \.isWhitespace).last.flatMap { try? IPAddress(String($0)) }
    }

    /// How the gateway on `host` says it reaches its import `name` (`z2z services --json`):
    /// `relayed overlapping_prefixes`, `direct`, ...; nil when it lists no such import.
    func route(of name: String, on host: HostRef, isolation: isolated (any Actor)? = #isolation) async throws -> String? {
        let output = try await bed.runChecked(host, [try BuildProducts.executable("z2z"), "services", "--json"], timeout: .seconds(10))
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let services = json?["services"] as? [[String: Any]] ?? []
        guard let route = services.first(where: { $0["name"] as? String == name && $0["route"] != nil })?["route"] as? [String: Any],
              let path = route["path"] as? String
        else { return nil }
        return ([path] + [route["reason"] as? String].compactMap { $0 }).joined(separator: " ")
    }

    /// The gateway's `/metrics` on `host`, parsed strictly.
    func metrics(on host: HostRef, isolation: isolated (any Actor)? = #isolation) async throws -> PrometheusText {
        try PrometheusText(try await bed.runChecked(host, ["curl", "-sS", "-m", "10", "http://127.0.0.1:7401/metrics"]))
    }

    /// The addresses a file server printed connections from so far.
    static func connectionSources(_ server: BackgroundProcess) -> Set<String> {
        Set(server.output.compactMap { $0.hasPrefix("connection from ") ? String($0.dropFirst(16)) : nil })
    }

    // MARK: failures

    /// Records an issue with the diagnosis unless `condition` holds.
    func check(_ condition: Bool, _ message: @autoclosure () -> String,
               sourceLocation: SourceLocation = #_sourceLocation, isolation: isolated (any Actor)? = #isolation) async {
        guard !condition else { return }
        Issue.record("\(message())\n\(await diagnosis())", sourceLocation: sourceLocation)
    }

    /// Runs `body`; when it throws, records the error with the diagnosis, then rethrows.
    func explaining<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            Issue.record("\(error)\n\(await diagnosis())")
            throw error
        }
    }

    /// What the gateways say (log, `z2z status`, `services`, `events`, their host's
    /// `avahi-browse`) and the last lines each watching host saw.
    func diagnosis(isolation: isolated (any Actor)? = #isolation) async -> String {
        var parts: [String] = []
        for gateway in gateways {
            parts.append(gateway.process.isRunning ? await gateway.diagnosis(bed) : "== \(gateway.host): z2zd gone\n\(gateway.log)")
        }
        for watcher in watchers {
            parts.append("== \(watcher.host): avahi-browse -arpk, last lines\n"
                + watcher.all.suffix(30).map { "\($0.line)" }.joined(separator: "\n"))
        }
        return parts.joined(separator: "\n")
    }
}

/// A relay test's own finding (not a timeout), with what was seen.
struct RelayTestFailure: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}
