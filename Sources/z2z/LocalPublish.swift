import ArgumentParser
import Avahi
import DNSSD
import LocalDomain

extension Local {
    /// `z2z local publish`: announce one service through the gateway's Avahi backend, like
    /// avahi-publish, to check publishing on a host without the daemon.
    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a service on this host's LAN until interrupted.",
            discussion: """
                Announces the service through avahi-daemon and keeps it announced — also across
                avahi-daemon restarts — until SIGINT or SIGTERM, then withdraws it (goodbye).
                With --host and --address the service points to a synthesized host name whose
                address records (no reverse records) point to another machine.
                Prints each state change; exits 1 if the publication is refused.

                Examples:
                  z2z local publish "Lab Printer" _ipp._tcp 631 rp=printers/lab flag
                  z2z local publish Camera _rtsp._tcp 554 --host cam-7.local --address 10.0.2.17
                  z2z local publish --escaped Blob _x-blob._tcp 9 'bin=\\001\\255'
                """
        )

        @Argument(help: "Instance name (up to 63 bytes of UTF-8).") var name: String
        @Argument(help: "Service type, e.g. _ipp._tcp.") var type: String
        @Argument(help: "Port.") var port: UInt16
        @Argument(help: "TXT strings: key=value, or key alone for a boolean attribute.") var txt: [String] = []
        @Option(help: "Subtype label, e.g. _printer; repeatable.") var subtype: [String] = []
        @Option(help: "Synthesized host name for the SRV record (needs --address).") var host: String?
        @Option(help: "Address of the synthesized host; repeatable (IPv4 or IPv6).") var address: [String] = []
        @Option(help: "On a name collision rename to \"NAME (SUFFIX)\" instead of \"NAME #2\".") var renameSuffix: String?
        @Flag(help: "Announce at once without probing the name first (only for names known to be free).")
        var noProbe = false
        @Flag(help: "TXT arguments use avahi-browse escapes (\\DDD decimal bytes, \\\\ and \\\").") var escaped = false
        @Flag(help: "Print events as JSON lines.") var json = false
        @Flag(name: .shortAndLong, help: "Log what the Avahi backend does to stderr.") var verbose = false

        func validate() throws {
            _ = try publication()
        }

        func publication() throws -> Publication {
            do {
                let strings = try txt.map { text throws(DNSSDError) -> [UInt8] in
                    escaped ? try AvahiEscaping.unescapeLabel(text) : Array(text.utf8)
                }
                let entries = try strings.enumerated().map { index, string throws(DNSSDError) in
                    try TXTEntry(string: string, index: index)
                }
                let publicationHost: PublicationHost
                switch (host, address.isEmpty) {
                case (nil, true): publicationHost = .thisHost
                case (let host?, false): publicationHost = .synthesized(try HostName(host), addresses: try address.map { try IPAddress($0) })
                case (nil, false): throw ValidationError("--address needs --host")
                case (_?, true): throw ValidationError("--host needs at least one --address")
                }
                let publication = Publication(
                    name: try InstanceName(name), type: try ServiceType(type), subtypes: try subtype.map { try Subtype($0) },
                    port: port, txt: try TXTRecord(entries: entries), host: publicationHost,
                    renameRule: renameSuffix.map { .suffix($0) } ?? .numbered,
                    announcement: noProbe ? .immediate : .probed)
                try publication.validate()
                return publication
            } catch let error as DNSSDError {
                throw ValidationError("\(error) [\(error.reason)]")
            } catch let error as PublishError {
                throw ValidationError("\(error) [\(error.reason)]")
            }
        }

        func run() async throws {
            CLILogging.bootstrap(verbose: verbose)
            let domain = try AvahiDomain(options: .init(scope: .nothing))
            let format: OutputFormat = json ? .json : .human
            let id: PublicationID
            do {
                id = try await domain.publish(try publication())
            } catch {
                await domain.shutdown()
                throw error
            }
            let signals = SignalWatcher { await domain.shutdown() }
            defer { signals.cancel() }
            for await event in domain.events {
                switch event {
                case .publication, .connection: if let line = format.render(event) { print(line) }
                default: break
                }
                if case .publication(id, .failed(let reason)) = event {
                    await domain.shutdown()
                    throw CLIError.refused(reason)
                }
            }
        }
    }
}
