import ArgumentParser
import Config
import Foundation
import Z2ZAPI

/// `z2z config`: the daemon's configuration.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check z2zd configuration files.",
        subcommands: [Check.self]
    )

    /// `z2z config check [FILE]`.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file, or the running daemon's, before a reload.",
            discussion: """
                With FILE, checks that file here; the daemon need not run. Without, asks the \
                running daemon to re-read its own configuration (file, environment and flags) \
                as a reload (SIGHUP) would, without applying it.

                Prints every problem as FILE:LINE: KEY: MESSAGE. Exits 0 when the \
                configuration is valid, 1 when it is not or the daemon cannot be reached.

                Example:
                  z2z config check /etc/z2z/z2z.toml && systemctl reload z2zd
                """
        )

        @Argument(help: "A TOML configuration file to check offline.") var file: String?
        @OptionGroup var daemon: DaemonConnection

        func run() async throws {
            let result: ConfigCheckResult
            if let file {
                result = ConfigCheckResult(file: file, result: ConfigurationLoader.check(file: file))
                if daemon.json { printRawJSON(try APIJSON.encoder().encode(result)) } else { print(Self.render(result), terminator: "") }
            } else {
                result = try await daemon.show(APIPaths.configCheck, as: ConfigCheckResult.self, render: Self.render)
            }
            if !result.ok { throw ExitCode.failure }
        }

        static func render(_ result: ConfigCheckResult) -> String {
            let name = result.file ?? "the configuration (defaults, environment and flags)"
            guard !result.ok else { return "\(name): OK\n" }
            let count = result.problems.count
            return result.problems.map { $0.description + "\n" }.joined()
                + "\(name): \(count) problem\(count == 1 ? "" : "s")\n"
        }
    }
}
