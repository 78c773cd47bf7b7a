import ArgumentParser
import Avahi
import DNSSD
import Foundation
import LocalDomain

/// `z2z local`: the services on this host's LAN, through the same Avahi backend the gateway uses.
struct Local: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or publish services on this host's LAN through avahi-daemon (no z2z daemon needed).",
        subcommands: [Browse.self, Publish.self],
        defaultSubcommand: Browse.self
    )
}

extension Local {
    struct Browse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the services this host sees on its LAN.",
            discussion: """
                Without --watch, prints what avahi-daemon has found once every service is
                resolved (or --timeout passes), then exits: 0 on success, 1 when avahi-daemon
                cannot be reached. With --watch, prints every change until interrupted.

                --parsable prints one line per address in avahi-browse -p field order:
                  =;interface;protocol;name;type;domain;host;address;port;txt
                with avahi-browse's escaping, so the two can be compared line by line.
                --json prints a JSON array (with --watch: one JSON object per line).
                """
        )

        @Flag(help: "Print JSON.") var json = false
        @Flag(name: [.customShort("p"), .long], help: "Print avahi-browse -p style lines.") var parsable = false
        @Option(name: [.customShort("t"), .long], help: "Only this service type (e.g. _ipp._tcp); repeatable.")
        var type: [String] = []
        @Option(help: "Seconds to wait for the LAN to settle before printing.") var timeout: Double = 5
        @Flag(help: "Keep running and print changes as they happen.") var watch = false
        @Flag(name: .shortAndLong, help: "Log what the Avahi backend does to stderr.") var verbose = false

        func validate() throws {
            guard !(json && parsable) else { throw ValidationError("choose one of --json and --parsable") }
            guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
            for text in type {
                do { _ = try ServiceType(text) } catch { throw ValidationError("--type \(text): \(error)") }
            }
        }

        func run() async throws {
            CLILogging.bootstrap(verbose: verbose)
            let types = try type.map { try ServiceType($0) }
            let domain = try AvahiDomain(options: .init(scope: types.isEmpty ? .allTypes : .types(types)))
            let format: OutputFormat = json ? .json : parsable ? .parsable : .human
            if watch {
                try await Watch(domain: domain, format: format).run()
            } else {
                let services = try await snapshot(domain)
                await domain.shutdown()
                print(format.render(services), terminator: "")
            }
        }

        /// Collects events until the LAN has settled or the timeout passes.
        private func snapshot(_ domain: AvahiDomain) async throws -> [DiscoveredService] {
            let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
            let timer = Task {
                try? await Task.sleep(until: deadline)
                await domain.shutdown()
            }
            defer { timer.cancel() }
            var services: [ServiceID: DiscoveredService] = [:]
            for await event in domain.events {
                switch event {
                case .connection(.connecting(let reason)), .connection(.unavailable(let reason)):
                    await domain.shutdown()
                    throw CLIError.avahiUnreachable(reason)
                case .added(let service), .changed(let service):
                    services[service.id] = service
                case .removed(let id):
                    services[id] = nil
                case .settled:
                    return services.values.sorted { $0.id < $1.id }
                case .connection(.running), .ignored, .publication:
                    break
                }
            }
            // Timed out before settling: print what was found.
            return services.values.sorted { $0.id < $1.id }
        }
    }
}

/// Prints events as they come, until SIGINT or SIGTERM.
struct Watch {
    let domain: AvahiDomain
    let format: OutputFormat

    func run() async throws {
        let signals = SignalWatcher { await domain.shutdown() }
        defer { signals.cancel() }
        for await event in domain.events {
            if let line = format.render(event) { print(line) }
        }
    }
}

enum CLIError: Error, CustomStringConvertible {
    case avahiUnreachable(String)
    case refused(String)

    var description: String {
        switch self {
        case .avahiUnreachable(let reason):
            "avahi-daemon is not reachable (\(reason)). Is it running? Try: systemctl start avahi-daemon"
        case .refused(let reason):
            "avahi-daemon refused the publication: \(reason)"
        }
    }
}
