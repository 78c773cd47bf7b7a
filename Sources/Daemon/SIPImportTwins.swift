import DNSSD
import Gateway
import GatewayReports
import LocalDomain
import Logging
import SIP

/// `_sipuri._udp` twins of imported plain `_sip` UAs: the README and Services/README-sip.md
/// promise that every UA from another island can be found in the draft's format. The import
/// itself stays as it came (`_sip._udp` on its synthesized host, TXT with a reachable contact
/// and `aor`); the twin adds instance `<AoR> <name>`, TXT `txtvers`, `name` and `contact`, on
/// a synthesized host of its own (`<label>-sip-z2z-<island>`), so no gateway ever exports it.
enum SIPImportTwins {
    /// The twin of one import, or nil when it needs none (not a plain SIP type, not a UA, no
    /// reachable contact, or a name that cannot be made).
    static func publication(for imported: ImportPlanner.Imported) -> Publication? {
        publication(for: imported.record, imported: imported.publication)
    }

    static func publication(for record: ServiceRecord, imported: Publication) -> Publication? {
        guard [SIPAnnouncement.sipUDP, SIPAnnouncement.sipTCP, SIPAnnouncement.sipsTCP].contains(record.type),
              case .synthesized(_, let addresses) = imported.host else { return nil }
        var here = ServiceInstance(name: imported.name, type: imported.type, host: .local, port: imported.port,
                                   txt: imported.txt, addresses: addresses)
        guard let announcement = try? SIPAnnouncement(service: SIPBinding.instance(of: record)) else { return nil }
        here.host = (try? HostName("\(record.hostLabel).local")) ?? .local
        guard let contact = SIPDirectory.contacts(for: announcement.addressOfRecord, among: [here]).first,
              case .sip(let contactURI) = contact.uri else { return nil }
        var twin = announcement
        twin.uri = announcement.addressOfRecord.uri
        twin.uri.isSecure = announcement.uri.isSecure
        twin.contact = contactURI
        twin.capabilities = contact.parameters
        twin.style = .sipURI
        let label = imported.name.value
        let full = "\(twin.uri) \(label)"
        twin.label = full.utf8.count <= 63 ? label : nil
        let transport: TransportProtocol = record.type == SIPAnnouncement.sipUDP ? .udp : .tcp
        let host = SynthesizedHost.name(label: record.hostLabel + "-sip", island: record.island)
        guard let instance = try? twin.serviceInstance(host: host, port: imported.port, transport: transport) else { return nil }
        return Publication(name: instance.name, type: instance.type, port: imported.port, txt: instance.txt,
                           host: .synthesized(host, addresses: addresses), renameRule: imported.renameRule, announcement: .immediate)
    }
}

/// Keeps the link's twins equal to what the imports call for: publishes new ones, updates
/// changed ones, withdraws the rest. Only a leader has imports, so a follower withdraws all.
actor SIPTwinPublisher {
    private let domain: any LocalDomain
    private let logger: Logger
    private var published: [ServiceID: (publication: Publication, id: PublicationID)] = [:]

    init(domain: any LocalDomain, logger: Logger) {
        self.domain = domain
        self.logger = logger
    }

    /// `desired`: the twins, by the import they stand for.
    func reconcile(_ desired: [ServiceID: Publication]) async {
        for (key, current) in published where desired[key] == nil {
            await domain.withdraw(current.id)
            published[key] = nil
        }
        for (key, publication) in desired.sorted(by: { $0.key < $1.key }) {
            do {
                if let current = published[key] {
                    guard current.publication != publication else { continue }
                    if current.publication.name == publication.name, current.publication.type == publication.type {
                        try await domain.update(current.id, to: publication)
                        published[key] = (publication, current.id)
                        continue
                    }
                    await domain.withdraw(current.id)
                    published[key] = nil
                }
                published[key] = (publication, try await domain.publish(publication))
            } catch {
                logger.warning("could not publish the _sipuri twin of an import", metadata: ["import": "\(key)", "reason": "\(error)"])
            }
        }
    }
}
