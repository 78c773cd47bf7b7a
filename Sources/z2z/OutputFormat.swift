import DNSSD
import Foundation
import LocalDomain
import Z2ZAPI

/// How `z2z local` prints services: a table for people, avahi-browse -p lines, or JSON.
enum OutputFormat {
    case human, parsable, json

    func render(_ services: [DiscoveredService]) -> String {
        switch self {
        case .json:
            return encode(services.map { ServiceJSON($0) }) + "\n"
        case .parsable:
            return services.flatMap(Self.parsableLines).map { $0 + "\n" }.joined()
        case .human:
            guard !services.isEmpty else { return "No services found.\n" }
            return services.map(Self.humanBlock).joined(separator: "\n")
        }
    }

    /// One event as one line (nil: nothing worth printing in this format).
    func render(_ event: LocalDomainEvent) -> String? {
        switch (self, event) {
        case (.json, _):
            return encode(EventJSON(event))
        case (.parsable, .added(let service)), (.parsable, .changed(let service)):
            return Self.parsableLines(service).joined(separator: "\n")
        case (.parsable, .removed(let id)):
            return "-;n/a;n/a;\(AvahiEscaping.escapeLabel(id.name.value));\(id.type);\(id.domain)"
        case (.parsable, _):
            return nil
        case (.human, .added(let service)):
            return "+ " + Self.humanBlock(service)
        case (.human, .changed(let service)):
            return "~ " + Self.humanBlock(service)
        case (.human, .removed(let id)):
            return "- \(id.name) [\(id.type)] \(id.domain)"
        case (.human, .connection(let state)):
            return "# avahi: \(state)"
        case (.human, .ignored(let name, let type, let reason)):
            return "# ignored \(name.isEmpty ? type : "\(name) [\(type)]"): \(reason)"
        case (.human, .settled):
            return "# all services resolved"
        case (.human, .publication(let id, let state)):
            return "# \(id): \(state)"
        }
    }

    /// One avahi-browse -p "=" line per address, with the interface and protocol it belongs to.
    static func parsableLines(_ service: DiscoveredService) -> [String] {
        let instance = service.instance
        return service.linkAddresses.map { linkAddress in
            BrowseLine(kind: .resolved, interface: interfaceName(linkAddress.interface),
                       protocolName: linkAddress.address.isIPv4 ? "IPv4" : "IPv6", id: instance.id,
                       resolution: .init(host: instance.host, address: linkAddress.address,
                                         port: instance.port, txt: instance.txt)).description
        }
    }

    static func humanBlock(_ service: DiscoveredService) -> String {
        let instance = service.instance
        var lines = ["\(instance.name) [\(instance.type)] \(instance.domain)"]
        lines.append("   host      \(instance.host):\(instance.port)")
        lines.append("   addresses " + service.linkAddresses
            .map { "\($0.address)%\(interfaceName($0.interface))" }.joined(separator: " "))
        if !instance.txt.isEmpty { lines.append("   txt       " + AvahiEscaping.quoteTXT(instance.txt)) }
        if !instance.subtypes.isEmpty { lines.append("   subtypes  " + instance.subtypes.map(\.label).joined(separator: " ")) }
        var origin: [String] = []
        if service.origin.contains(.local) { origin.append("local") }
        if service.origin.contains(.ourOwn) { origin.append("our-own") }
        if !origin.isEmpty { lines.append("   origin    " + origin.joined(separator: ", ")) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func interfaceName(_ index: InterfaceIndex) -> String { InterfaceName.of(index) }

    private func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// One `--watch --json` line.
struct EventJSON: Codable {
    var event: String
    var service: ServiceJSON?
    var name: String?
    var type: String?
    var domain: String?
    var detail: String?

    init(_ event: LocalDomainEvent) {
        switch event {
        case .added(let service): self.event = "added"; self.service = ServiceJSON(service)
        case .changed(let service): self.event = "changed"; self.service = ServiceJSON(service)
        case .removed(let id):
            self.event = "removed"; name = id.name.value; type = id.type.description; domain = id.domain.value
        case .connection(let state): self.event = "connection"; detail = "\(state)"
        case .ignored(let name, let type, let reason):
            self.event = "ignored"; self.name = name; self.type = type; detail = reason.description
        case .settled: self.event = "settled"
        case .publication(let id, let state): self.event = "publication"; name = id.description; detail = "\(state)"
        }
    }
}
