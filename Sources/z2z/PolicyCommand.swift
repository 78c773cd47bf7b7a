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

    /// `z2z policy test <type> <island> [--name N] [--host H] [--address A ...]`.
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether a service may cross to or from an island, and which rule decided.",
            discussion: """
                Asks the running daemon's policy about both directions: export (from this \
                island into the DHT; ISLAND is then this island) and import (from ISLAND onto \
                this link). Names the deciding rule with its line in the configuration file, \
                or "default". Exits 0 whatever the verdict.

                Rules may also pick instances by name, host or address (the keys name, host \
                and address of a [[policy.rule]]). Give the instance's facts with --name, \
                --host and --address to ask about one instance; a rule that matches by a fact \
                not given is passed over, and the answer lists such rules: for a particular \
                instance one of them may decide instead.

                With a third argument TO the question is one crossing, from ISLAND to TO \
                (islands, a router's links, or zones of them): export rules as ISLAND's \
                gateway decides them, then import rules as TO's does; rules with from, to \
                and one_way decide here.

                Examples:
                  z2z policy test _ipp._tcp headquarters
                  z2z policy test _ipp._tcp staff students
                  z2z policy test _airplay._tcp north --name "Room 12 TV" --address 10.1.2.7
                  z2z policy test _ssh._tcp lab --host lab-3.local --address fd00:1::7
                """
        )

        @Argument(help: "Service type, e.g. _ipp._tcp.") var type: String
        @Argument(help: "Island id (16 hex digits, as `z2z islands` prints) or name.") var island: String
        @Argument(help: "Where the service goes (an island or a router's link): ask about the crossing ISLAND -> TO.")
        var to: String?
        @Option(help: ArgumentHelp(
            "The instance name as people see it, unescaped (\"Lab Printer 3\"), for rules with name = \"…\".",
            valueName: "name"))
        var name: String?
        @Option(help: ArgumentHelp(
            "The host the service runs on (lab-3.local), for rules with host = \"…\". For an import, the "
                + "host as the exporting island has it; its first label is enough (lab-3).", valueName: "host"))
        var host: String?
        @Option(help: ArgumentHelp(
            "An address of the service (IPv4 or IPv6), for rules with address = \"prefix\"; repeat for "
                + "more: a rule matches when any of them is inside its prefix.", valueName: "address"))
        var address: [String] = []
        @OptionGroup var daemon: DaemonConnection

        func validate() throws {
            do { _ = try ServiceType(type) } catch { throw ValidationError("\(type): \(error)") }
            guard !island.isEmpty else { throw ValidationError("give an island id or name") }
            if let to, to.isEmpty { throw ValidationError("TO: give an island id or name") }
            if let name { do { _ = try InstanceName(name) } catch { throw ValidationError("--name \"\(name)\": \(error)") } }
            if let host { do { _ = try HostName(host) } catch { throw ValidationError("--host \"\(host)\": \(error)") } }
            for text in address {
                do { _ = try IPAddress(text) } catch { throw ValidationError("--address \"\(text)\": not an IPv4 or IPv6 address") }
            }
        }

        func run() async throws {
            var query = [URLQueryItem(name: "type", value: type), URLQueryItem(name: "island", value: island)]
            if let to { query.append(URLQueryItem(name: "to", value: to)) }
            if let name { query.append(URLQueryItem(name: "name", value: name)) }
            if let host { query.append(URLQueryItem(name: "host", value: host)) }
            if !address.isEmpty { query.append(URLQueryItem(name: "address", value: address.joined(separator: ","))) }
            try await daemon.show(APIPaths.policyTest, query: query, as: PolicyTestResult.self, render: Self.render)
        }

        static func render(_ result: PolicyTestResult) -> String {
            func lines(_ direction: String, _ verdict: PolicyVerdict) -> String {
                let decided = verdict.ruleNumber == nil ? "by default" : "by \(verdict.explanation)"
                var text = "  \(direction)  \(verdict.action.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(decided)\n"
                if let passed = verdict.passedOver, !passed.isEmpty {
                    let rules = passed.map(String.init).joined(separator: ", ")
                    text += "          passed over rule\(passed.count == 1 ? "" : "s") \(rules): \(passed.count == 1 ? "it matches" : "they match") "
                        + "by a name, host or address not given (--name, --host, --address)\n"
                }
                return text
            }
            var service = result.type
            if let name = result.name { service += " named \"\(name)\"" }
            if let host = result.host { service += " on \(host)" }
            if let addresses = result.addresses, !addresses.isEmpty { service += " at \(addresses.joined(separator: ", "))" }
            if let destination = result.destination, let crossing = result.crossing {
                return "\(service) from \(result.island) to \(destination):\n" + lines("crossing", crossing)
                    + lines("export", result.exportVerdict) + lines("import", result.importVerdict)
            }
            return "\(service) and island \(result.island):\n" + lines("export", result.exportVerdict)
                + lines("import", result.importVerdict)
        }
    }
}
