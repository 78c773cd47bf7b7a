import ArgumentParser
@preconcurrency import Foundation
import Logging

/// `z2z`: the command-line tool of the z2z gateway.
@main
struct Z2Z: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "z2z",
        abstract: "Inspect and control z2z, the zeroconf-to-zeroconf gateway.",
        discussion: """
            z2z joins isolated zeroconf LANs ("islands") into one service-discovery space. \
            `z2z local` shows what this host sees on its own LAN through avahi-daemon, \
            without the gateway daemon. The other commands ask the running gateway daemon \
            (z2zd) through its local HTTP API (--api, default 127.0.0.1:7401 or $Z2Z_API; before or after the command); \
            each takes --json for the API's JSON.

            Exit status: 0 ok, 1 error (including: the daemon cannot be reached), \
            2 degraded (`z2z status` only), 64 the command line is wrong.
            """,
        subcommands: [Status.self, Islands.self, Peers.self, Services.self, Explain.self, Events.self, DHT.self, SIP.self, PolicyCommand.self, ConfigCommand.self, Local.self]
    )

    /// `--api` may also come before the subcommand (`GlobalOptions`).
    static func main() async {
        await main(GlobalOptions.hoisted(Array(CommandLine.arguments.dropFirst())))
    }
}

/// The CLI logs warnings and worse to stderr; stdout carries only results, line by line so
/// that `--watch` output can be piped.
enum CLILogging {
    static func bootstrap(verbose: Bool) {
        setvbuf(stdout, nil, _IOLBF, 0) // before any other thread prints
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .warning
            return handler
        }
    }
}
