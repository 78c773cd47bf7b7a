import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Z2ZAPI

/// Tells systemd how the gateway is doing (`Type=notify`): `READY=1` once avahi-daemon is
/// connected, the island has a leader and — for a leader given seeds — the overlay is
/// joined; a `STATUS=` line every few seconds; `WATCHDOG=1` at half the watchdog interval,
/// sent only after the gateway's actor answered (a hung driver stops the pings and systemd
/// restarts it); `STOPPING=1` at the end. Does nothing outside systemd.
struct SystemdService: Service {
    /// Whether READY=1 was sent: a reload before it must not announce readiness.
    final class Readiness: Sendable {
        private let ready = Mutex(false)
        var isReady: Bool { ready.withLock { $0 } }
        func markReady() { ready.withLock { $0 = true } }
    }

    let notifier: SystemdNotifier
    let readiness = Readiness()
    let status: GatewayStatus
    /// Seeds were configured: a leader is ready only once it reached another island (or after `joinGrace`).
    let seedsConfigured: Bool
    let logger: Logger
    var joinGrace: Duration = .seconds(30)

    func run() async throws {
        // A service that returns ends the group: outside systemd, wait for the shutdown.
        guard notifier.isEnabled else { return try await gracefulShutdown() }
        let started = ContinuousClock.now
        let period = min(.seconds(2), (notifier.watchdogInterval ?? .seconds(4)) / 2)
        let (notifier, status, seedsConfigured, logger, joinGrace, readiness) =
            (notifier, status, seedsConfigured, logger, joinGrace, readiness)
        await cancelWhenGracefulShutdown {
            var ready = false
            while !Task.isCancelled {
                let current = await status.status()
                let dhtPeers = await status.dhtPeerCount()
                let text = Self.statusLine(current, dhtPeers: dhtPeers)
                if !ready, Self.isReady(current, dhtPeers: dhtPeers, seedsConfigured: seedsConfigured,
                                        waited: started.duration(to: .now), grace: joinGrace) {
                    ready = true
                    readiness.markReady()
                    notifier.notify("READY=1\nSTATUS=\(text)")
                    logger.info("told systemd: ready", metadata: ["status": "\(text)"])
                } else {
                    notifier.notify("STATUS=\(text)")
                }
                if notifier.watchdogInterval != nil { notifier.notify("WATCHDOG=1") }
                try? await Task.sleep(for: period)
            }
        }
        notifier.notify("STOPPING=1\nSTATUS=stopping: withdrawing imports and exports")
    }

    /// Ready: Avahi connected, a leader elected, and a leader given seeds has DHT peers
    /// (or has waited `grace` for them: an unreachable seed must not keep it from starting).
    static func isReady(_ status: StatusResponse, dhtPeers: Int, seedsConfigured: Bool, waited: Duration, grace: Duration) -> Bool {
        guard status.avahi.state == .connected, status.leaderID != nil else { return false }
        guard status.role == .leader, seedsConfigured else { return true }
        return dhtPeers > 0 || waited >= grace
    }

    static func statusLine(_ status: StatusResponse, dhtPeers: Int) -> String {
        guard status.avahi.state == .connected else { return "waiting for avahi-daemon (\(status.avahi.detail ?? status.avahi.state.rawValue))" }
        guard status.leaderID != nil else { return "electing a leader on island \(status.island)" }
        return "\(status.role) on island \(status.island), stage \(status.stage), \(dhtPeers) DHT peers; services: " +
            "\(status.services.local) local, \(status.services.imported) imported, \(status.services.exported) exported"
    }
}

extension GatewayStatus {
    /// Other DHT nodes this gateway reaches.
    func dhtPeerCount() async -> Int { await rendezvousStats().peers }
}
