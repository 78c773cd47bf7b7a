import ArgumentParser
import Avahi
import DNSSD
import Foundation
import LocalDomain
import Logging

/// `z2zd`: the z2z gateway daemon.
///
/// Today it watches the local LAN through avahi-daemon and logs every service that comes,
/// changes and goes — the local half of the gateway. Islands, the DHT and import/export
/// build on it.
@main
struct Z2ZD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "z2zd",
        abstract: "The z2z gateway daemon: joins zeroconf LANs into one discovery space.",
        discussion: """
            With no options z2zd watches every service type on this host's LAN through
            avahi-daemon and logs what it sees. It waits for avahi-daemon if that is not
            running yet and reconnects when it restarts. Stop it with SIGINT or SIGTERM.
            """
    )

    @Option(name: [.customShort("t"), .long], help: "Only watch this service type (e.g. _ipp._tcp); repeatable.")
    var type: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        for text in type {
            do { _ = try ServiceType(text) } catch { throw ValidationError("--type \(text): \(error)") }
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "z2zd")
        let types = try type.map { try ServiceType($0) }
        let domain = try AvahiDomain(options: .init(scope: types.isEmpty ? .allTypes : .types(types)),
                                     logger: Logger(label: "z2zd.avahi"))
        let stop = SignalHandlers { await domain.shutdown() }
        defer { stop.cancel() }
        logger.info("z2zd started", metadata: ["watching": "\(types.isEmpty ? "all types" : types.map(\.description).joined(separator: ","))"])
        var count = 0
        for await event in domain.events {
            switch event {
            case .added(let service):
                count += 1
                logger.info("service added", metadata: Self.metadata(service).merging(["services": "\(count)"]) { $1 })
            case .changed(let service):
                logger.info("service changed", metadata: Self.metadata(service))
            case .removed(let id):
                count -= 1
                logger.info("service removed", metadata: ["service": "\(id)", "services": "\(count)"])
            case .ignored(let name, let type, let reason):
                logger.notice("service ignored", metadata: ["name": "\(name)", "type": "\(type)", "reason": "\(reason.reason)"])
            case .connection(let state):
                logger.info("avahi connection", metadata: ["state": "\(state)"])
            case .settled:
                logger.info("initial browse complete", metadata: ["services": "\(count)"])
            case .publication:
                break
            }
        }
        logger.info("z2zd stopped")
    }

    static func metadata(_ service: DiscoveredService) -> Logger.Metadata {
        [
            "service": "\(service.id)",
            "host": "\(service.instance.host):\(service.instance.port)",
            "addresses": "\(service.instance.addresses.map(\.description).joined(separator: ","))",
        ]
    }
}

/// Runs an async action once on SIGINT or SIGTERM.
final class SignalHandlers: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]

    init(_ action: @escaping @Sendable () async -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { Task { await action() } }
            source.resume()
            return source
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
