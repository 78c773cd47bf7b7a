import DNSSD
import LocalDomain
import Logging
import SIP

/// Announces each AoR the registrar holds on the gateway's link, in the draft's `_sipuri._udp`
/// format (instance `sip:user@domain`, TXT `contact=<the phone's newest contact>`, SRV the
/// gateway's SIP port), marked `z2z-registrar` so the export side exports it like any UA; and
/// withdraws it when the AoR's last binding expires or is removed.
actor RegistrarAnnouncer {
    private let domain: any LocalDomain
    private let port: UInt16
    private let gateway: String
    private let logger: Logger
    private var publications: [SIPAddressOfRecord: PublicationID] = [:]

    init(domain: any LocalDomain, port: UInt16, gateway: String, logger: Logger) {
        self.domain = domain
        self.port = port
        self.gateway = gateway
        self.logger = logger
    }

    func apply(_ changes: [RegistrarChange]) async {
        for change in changes {
            switch change {
            case .unbound(let aor):
                if let id = publications.removeValue(forKey: aor) { await domain.withdraw(id) }
                logger.info("registration ended", metadata: ["aor": "\(aor)"])
            case .bound(let aor, let contacts):
                guard let publication = publication(aor, contacts) else { continue }
                do {
                    if let id = publications[aor] {
                        try await domain.update(id, to: publication)
                    } else {
                        publications[aor] = try await domain.publish(publication)
                    }
                    logger.info("registered", metadata: ["aor": "\(aor)", "contacts": "\(contacts.map(\.description))"])
                } catch {
                    logger.warning("could not announce a registration", metadata: ["aor": "\(aor)", "reason": "\(error)"])
                }
            }
        }
    }

    func publication(_ aor: SIPAddressOfRecord, _ contacts: [SIPContact]) -> Publication? {
        guard let newest = contacts.first, case .sip(let contact) = newest.uri else { return nil }
        let announcement = SIPAnnouncement(uri: aor.uri, displayName: newest.displayName, contact: contact,
                                           capabilities: newest.parameters.filter { $0.name != "expires" })
        guard let instance = try? announcement.serviceInstance(host: .local, port: port, registrar: gateway) else {
            logger.warning("registration cannot be announced in DNS-SD", metadata: ["aor": "\(aor)"])
            return nil
        }
        return Publication(name: instance.name, type: instance.type, port: port, txt: instance.txt, host: .thisHost)
    }

    /// Withdraws every announcement (shutdown).
    func withdrawAll() async {
        for id in publications.values { await domain.withdraw(id) }
        publications = [:]
    }
}
