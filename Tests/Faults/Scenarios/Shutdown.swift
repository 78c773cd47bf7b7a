import Foundation
import Testbed

#if canImport(Glibc)
import Glibc
#endif

/// How a gateway's imports leave when it stops: with goodbyes on SIGTERM, by expiry on SIGKILL.
enum Shutdown {
    /// Island 2 publishes `--services` services; island 1's only gateway imports them and
    /// is stopped with SIGTERM: a raw mDNS listener on island 1 hears the goodbyes.
    static func sigterm(_ lab: Lab, _ options: FaultOptions) async throws {
        let names = try await installServices(lab, on: .i(2, h: 2), count: options.services, prefix: "Svc ")
        let one = try lab.gateway(.i(1, h: 1), island: "one", seed: .i(2, h: 1))
        _ = try lab.gateway(.i(2, h: 1), island: "two", seed: .i(1, h: 1))
        let on1 = try lab.watch(.i(1, h: 2))
        try require(await waitUntil(120) { on1.view.names(ofType: Lab.type) == names }, "\(names.count) imports on island 1")
        let listener = try await GoodbyeListener.start(lab.bed, on: .i(1, h: 2))
        try await Task.sleep(for: .seconds(1))
        let stoppedAt = Monotonic.seconds(), stopped = ContinuousClock.now
        let code = await one.stop(SIGTERM, timeout: .seconds(20))
        let exited = (ContinuousClock.now - stopped).seconds
        try await Task.sleep(for: .seconds(2))
        let tally = GoodbyeTally(listener.heard, names: names, type: Lab.type, stoppedAt: stoppedAt)
        let within = tally.count(within: 1.0)
        lab.say("z2zd exited with \(code) after \(Format.fixed(exited, 2)) s; goodbyes heard for \(tally.delays.count)/"
            + "\(names.count), last \(Format.seconds(tally.last))")
        lab.figure(Figure("sigterm.goodbyes_within_1s", .number(Double(within) / Double(names.count)),
                          "SIGTERM of a leader with \(names.count) imports: goodbyes (PTR, TTL 0) for \(within)/\(names.count) "
                              + "within 1 s (last \(Format.seconds(tally.last))), raw mDNS listener on the island; exit status \(code)",
                          target: "100 % within 1 s", met: within == names.count))
        // avahi-browse on the island drops them one second after the goodbye (RFC 6762 10.1).
        let waited = (ContinuousClock.now - stopped).seconds
        let gone = try await waitUntil(10) { on1.view.names(ofType: Lab.type).isEmpty }.map { $0 + waited }
        lab.figure(Figure("sigterm.gone_in_avahi_browse_s", .seconds(gone),
                          "all gone from avahi-browse on the island \(Format.seconds(gone)) after SIGTERM (checked from "
                              + "\(Format.fixed(waited, 1)) s on)"))
    }

    /// Island 1's only gateway exports `--services` services and is killed (-9); island 2
    /// must drop them when their records expire (lifetime 300 s; `--limit 400` to see it).
    static func sigkill(_ lab: Lab, _ options: FaultOptions) async throws {
        let names = try await installServices(lab, on: .i(1, h: 2), count: options.services, prefix: "Kil ")
        let one = try lab.gateway(.i(1, h: 1), island: "one", seed: .i(2, h: 1))
        _ = try lab.gateway(.i(2, h: 1), island: "two", seed: .i(1, h: 1))
        let on2 = try lab.watch(.i(2, h: 2))
        try require(await waitUntil(120) { on2.view.names(ofType: Lab.type) == names }, "imports on island 2")
        one.send(SIGKILL)
        let gone = try await waitUntil(options.limit, every: 1) { on2.view.names(ofType: Lab.type).isEmpty }
        lab.figure(Figure("sigkill.remote_drop_s", .seconds(gone),
                          "kill -9 of island 1's only gateway: island 2 dropped all \(names.count) of its services after "
                              + "\(Format.seconds(gone)) (record lifetime 300 s, republished at half-life)",
                          target: "by their expiry, <= 300 s + 10 s", met: gone.map { $0 <= 310 } ?? false))
    }

    /// `<prefix>0` … as static services of the host's avahi-daemon (port 10000 + n, TXT
    /// `n=<n>`), restarted to publish them; returns their names.
    static func installServices(_ lab: Lab, on host: HostRef, count: Int, prefix: String) async throws -> Set<String> {
        let files = (0..<count).map { ServiceFile(name: "\(prefix)\($0)", type: Lab.type, port: 10_000 + $0, txt: ["n=\($0)"]) }
        try await lab.bed.install(files, on: host)
        return Set(files.map(\.name))
    }
}
