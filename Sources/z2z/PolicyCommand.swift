import ArgumentParser
import DNSSD
import Foundation
import Z2ZAPI

/// `z2z policy`: questions about the running policy.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Ask the daemon's policy which services may cross.",
        subcommands: [Test.self]
    )

    /// `z2z policy test <type> <island>`.
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether a service type may cross to or from an island, and which rule decided.",
            discussion: """
                Asks the running daemon's policy about both directions: export (from this \
                island into the DHT; ISLAND is then this island) and import (from ISLAND onto \
                this link). Names the deciding rule with its line in the configuration file, \
                or "default". Exits 0 whatever the verdict.

                Example:
                  z2z policy test _ipp._tcp headquarters
                """
        )

        @Argument(help: "Service type, e.g. _ipp._tcp.") var type: String
        @Argument(help: "Island id (16 hex digits, as `z2z islands` prints) or name.") var island: String
        @OptionGroup var daemon: DaemonConnection

        func validate() throws {
            do { _ = try ServiceType(type) } catch { throw ValidationError("\(type): \(error)") }
            guard !island.isEmpty else { throw ValidationError("give an island id or name") }
        }

        func run() async throws {
            let query = [URLQueryItem(name: "type", value: type), URLQueryItem(name: "island", value: island)]
            try await daemon.show(APIPaths.policyTest, query: query, as: PolicyTestResult.self, render: Self.render)
        }

        static func render(_ result: PolicyTestResult) -> String {
            func line(_ direction: String, _ verdict: PolicyVerdict) -> String {
                let decided = verdict.ruleNumber == nil ? "by default" : "by \(verdict.explanation)"
                return "\(direction)  \(verdict.action.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(decided)"
            }
            return """
                \(result.type) and island \(result.island):
                  \(line("export", result.exportVerdict))
                  \(line("import", result.importVerdict))

                """
        }
    }
}
