import API
import ArgumentParser
import Config
import Daemon
import Foundation
import Logging
import Synchronization

/// `z2zd`: the z2z gateway daemon.
@main
struct Z2ZD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "z2zd",
        abstract: "The z2z gateway daemon: joins zeroconf LANs (islands) into one discovery space.",
        discussion: """
            Run one z2zd on each LAN, next to avahi-daemon. With no options it is a gateway \
            on this host's LAN: it finds the other gateways on the link, they elect one \
            leader, and the leader exports the LAN's services and imports the services of \
            every other island it meets. To meet islands on other LANs, give one gateway of \
            another island with --bootstrap (any gateway of any island will do); islands on \
            a shared link find each other by themselves.

            Settings come from the TOML file (--config, default \(GatewayConfiguration.defaultFilePath) \
            if it exists; every key is documented in Deploy/z2z.toml), then Z2Z_* environment \
            variables, then these flags. A bad setting is refused with its key and line.

            Signals: SIGTERM or SIGINT withdraw what this gateway published and exported, then \
            exit; SIGHUP reloads the configuration (an invalid one is refused and the running \
            one stays). Ask the running daemon with `z2z status`.
            """
    )

    @OptionGroup var options: DaemonOptions

    /// z2zd started by itself to check configuration texts posted to its API (`ConfigCheckerProcess`).
    @Flag(help: .private) var configChecker = false

    func run() async throws {
        if configChecker {
            ConfigCheckerChild.serve()
            return
        }
        let configuration: ReloadableConfiguration
        do {
            configuration = try ReloadableConfiguration(loader: options.loader())
        } catch {
            FileHandle.standardError.write(Data("z2zd: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let level = LevelBox(Logger.Level(configuration.current.logLevel))
        LoggingSystem.bootstrap { label in FollowingLevel(label: label, level: level) }
        let logger = Logger(label: "z2zd")
        let daemon = GatewayDaemon(configuration: configuration, logger: logger) { reloaded in
            level.value = Logger.Level(reloaded.logLevel)
        }
        do {
            try await daemon.run()
        } catch {
            logger.critical("z2zd cannot run", metadata: ["reason": "\(error)"])
            throw ExitCode(1)
        }
    }
}

extension Logger.Level {
    init(_ level: LogLevel) { self = Logger.Level(rawValue: level.rawValue) ?? .info }
}

/// The log level in force; a reload changes it for every logger at once.
final class LevelBox: Sendable {
    private let level: Mutex<Logger.Level>
    init(_ level: Logger.Level) { self.level = Mutex(level) }
    var value: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

/// swift-log's standard-error handler at the level in `LevelBox`.
struct FollowingLevel: LogHandler {
    private var inner: StreamLogHandler
    private let level: LevelBox

    init(label: String, level: LevelBox) {
        inner = StreamLogHandler.standardError(label: label)
        inner.logLevel = .trace
        self.level = level
    }

    var logLevel: Logger.Level {
        get { level.value }
        set { level.value = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) { inner.log(event: event) }
}
