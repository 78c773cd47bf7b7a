import ArgumentParser
import DNSSD
import Foundation
import Z2ZAPI

/// `z2z services`: what the gateway sees on its link and what it imported.
struct Services: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the services the gateway knows: local ones and those imported from other islands.",
        discussion: """
            POLICY is the verdict for the service: for a local service whether it may be \
            exported, for an imported one whether it may be imported, with the deciding rule \
            (`z2z policy test` explains a type in full).

            PATH says how this link reaches an imported service: "direct" (its own \
            addresses), "relayed via leader 3fa2c1d0: LAN not routed" (published on this \
            leader's address and a relay port; the exporting island's leader relays, and why), \
            "unreachable: ..." for one held back because no address here can reach it and \
            no relay carries it, or "refused by avahi-daemon (...)" for one the daemon would \
            not publish (its object or client limit; tried again with backoff). A local \
            service whose PATH is "not exported: 128 of its type are ..." is left out because \
            the DHT holds no more values of one type from one island.

            --parsable prints one line per address in avahi-browse -p field order, plus the \
            origin as a last field:
              =;interface;protocol;name;type;domain;host;address;port;txt;origin
            with avahi-browse's escaping.
            """
    )

    @OptionGroup var daemon: DaemonConnection

    @Option(help: ArgumentHelp("Only services of this origin: local or imported.", valueName: "origin"))
    var origin: String?

    @Option(name: [.customShort("t"), .long], help: ArgumentHelp("Only this service type, e.g. _ipp._tcp.", valueName: "type"))
    var type: String?

    @Flag(name: [.customShort("p"), .long], help: "Print avahi-browse -p style lines, plus the origin.")
    var parsable = false

    func validate() throws {
        guard !(daemon.json && parsable) else { throw ValidationError("choose one of --json and --parsable") }
        if let origin, origin != "local", origin != "imported" {
            throw ValidationError("--origin must be local or imported, not \(origin)")
        }
        if let type {
            do { _ = try ServiceType(type) } catch { throw ValidationError("--type \(type): \(error)") }
        }
    }

    func run() async throws {
        var query: [URLQueryItem] = []
        if let origin { query.append(URLQueryItem(name: "origin", value: origin)) }
        if let type { query.append(URLQueryItem(name: "type", value: type)) }
        try await daemon.show(APIPaths.services, query: query, as: ServicesResponse.self) { answer in
            parsable ? answer.services.flatMap(Self.parsableLines).map { $0 + "\n" }.joined() : Self.render(answer.services)
        }
    }

    static func render(_ services: [ServiceJSON]) -> String {
        guard !services.isEmpty else { return "No services.\n" }
        // A router names each service's link: where it is seen, or where it was published.
        if services.contains(where: { $0.link != nil }) { return renderLinks(services) }
        var table = TextTable("NAME", "TYPE", "ORIGIN", "ISLAND", "ADDRESS", "POLICY", "PATH")
        for service in services {
            let address = service.addresses.first.map { Self.hostPort($0.address, service.port) } ?? "\(service.host):\(service.port)"
            let policy = service.policy.map { verdict in
                verdict.action.rawValue + (verdict.ruleNumber.map { " (rule \($0))" } ?? " (default)")
            } ?? "-"
            table.add(service.name, service.type, service.origin?.rawValue ?? "-", service.island?.description ?? "-",
                      address, policy, service.route?.summary ?? "-")
        }
        return table.rendered
    }

    /// Router mode: LINK first; ISLAND is where an imported service comes from.
    static func renderLinks(_ services: [ServiceJSON]) -> String {
        var table = TextTable("LINK", "NAME", "TYPE", "ORIGIN", "FROM", "ADDRESS", "POLICY")
        for service in services {
            let address = service.addresses.first.map { Self.hostPort($0.address, service.port) } ?? "\(service.host):\(service.port)"
            let policy = service.policy.map { verdict in
                verdict.action.rawValue + (verdict.ruleNumber.map { " (rule \($0))" } ?? " (default)")
            } ?? "-"
            let from = service.origin == .imported ? service.island?.name ?? service.island?.description ?? "-" : "-"
            table.add(service.link ?? "-", service.name, service.type, service.origin?.rawValue ?? "-", from, address, policy)
        }
        return table.rendered
    }

    /// avahi-browse -p `=` lines, one per address, with the origin appended.
    static func parsableLines(_ service: ServiceJSON) -> [String] {
        let txt = AvahiEscaping.quoteTXT(TXTRecord.receiving(service.txtStrings).record)
        let addresses = service.addresses.isEmpty ? [ServiceJSON.Address(address: "", interface: "n/a")] : service.addresses
        return addresses.map { address in
            let family = address.address.isEmpty ? "n/a" : address.address.contains(":") ? "IPv6" : "IPv4"
            return ["=", address.interface, family, AvahiEscaping.escapeLabel(service.name), service.type, service.domain,
                    service.host, address.address, String(service.port), txt, service.origin?.rawValue ?? ""]
                .joined(separator: ";")
        }
    }

    static func hostPort(_ address: String, _ port: UInt16) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
