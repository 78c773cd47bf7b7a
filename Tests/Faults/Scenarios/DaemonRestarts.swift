import DNSSD
import Foundation
import Testbed

/// The leader host's avahi-daemon (or dbus-daemon, and avahi-daemon with it) restarts: the
/// gateway reconnects and publishes its imports again.
enum DaemonRestarts {
    static func avahi(_ lab: Lab, _ options: FaultOptions) async throws {
        try await run(lab, options, key: "avahi_restart", what: "avahi-daemon restart on island 1's leader host",
                      summary: "avahi-daemon restart", stopWhenTheGatewayExits: true) {
            try await lab.bed.restartAvahi(.i(1, h: 1))
        }
    }

    static func dbus(_ lab: Lab, _ options: FaultOptions) async throws {
        try await run(lab, options, key: "dbus_restart", what: "dbus-daemon and avahi-daemon restart on island 1's leader host",
                      summary: "dbus restart", stopWhenTheGatewayExits: false) {
            try await lab.bed.restartDBus(.i(1, h: 1))
        }
    }

    private static func run(
        _ lab: Lab, _ options: FaultOptions, key: String, what: String, summary: String, stopWhenTheGatewayExits: Bool,
        restart: () async throws -> Void
    ) async throws {
        let setup = try await TwoIslands.start(lab)
        var results = TrialTimes()
        for trial in 1...options.trials {
            try await restart()
            let start = ContinuousClock.now
            let took = try await recovery(lab, key: "\(key).trial\(trial)_s", what: what, setup.watchers, setup.truth, since: start)
            let missing = try await missingOnRestartedHost(lab, .i(1, h: 1), setup.truth)
            lab.say("trial \(trial): the restarted avahi-daemon lists every service 3 s later: \(Format.bool(missing.isEmpty)) "
                + (missing.isEmpty ? "" : Format.list(missing)))
            results.append(missing.isEmpty ? took : nil)
            if stopWhenTheGatewayExits && !setup.one.isAlive {
                let log = (try? String(contentsOfFile: setup.one.log, encoding: .utf8)) ?? ""
                lab.say("z2zd exited: \(String(log.suffix(2000)))")
                break
            }
        }
        let alive = setup.one.isAlive
        lab.figure(Figure("\(key).max_s", .number(results.max!),
                          "\(summary): max \(Format.fixed(results.max!, 2)) s over \(results.count) trials; gateway still running: "
                              + Format.bool(alive),
                          target: "<= 10 s, no exit", met: results.maxIsWithin(10) && alive))
    }

    /// Seconds from `since` until every view is whole again (`ViewCheck.isWhole`), as a
    /// figure of its own that names what went away meanwhile.
    private static func recovery(
        _ lab: Lab, key: String, what: String, _ watchers: [BrowseWatcher], _ truth: Set<String>, since: ContinuousClock.Instant
    ) async throws -> Double? {
        let took = try await waitUntil(60, every: 0.05) { ViewCheck.isWhole(lab.views(watchers), truth, type: Lab.type, since: since) }
        let dropped = ViewCheck.dropped(lab.views(watchers), truth, since: since)
        lab.figure(Figure(key, .seconds(took),
                          "\(what): every view whole again \(Format.seconds(took)) after avahi-daemon ran again (went away meanwhile: "
                              + "\(dropped.isEmpty ? "nothing" : dropped.joined(separator: ", ")))"
                              + (took != nil ? "" : "; \(lab.describe(watchers, truth))"),
                          target: "<= 10 s", met: took.map { $0 <= 10 } ?? false))
        return took
    }

    /// After 3 s (longer than the 1 s a goodbye leaves a record in caches): the services of
    /// `truth` the restarted avahi-daemon does not list itself, i.e. z2zd did not publish again.
    private static func missingOnRestartedHost(_ lab: Lab, _ host: HostRef, _ truth: Set<String>) async throws -> Set<String> {
        try await Task.sleep(for: .seconds(3))
        let output = (try? await lab.bed.run(host, ["avahi-browse", "-tpk", Lab.type]).stdout) ?? ""
        let seen = output.split(separator: "\n").compactMap { try? BrowseLine(parsing: String($0)) }
            .filter(\.isIPv4).map(\.id.name.value)
        return truth.subtracting(seen)
    }
}
