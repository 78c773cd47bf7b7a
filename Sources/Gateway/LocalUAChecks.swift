import DNSSD
import LocalDomain
import SIP

/// Live contacts on the UA's home island (issue 17): which SIP user agents on its link the
/// leader checks, and which of them it withdraws from export because none of their contacts
/// answers OPTIONS any more — a phone unplugged without a goodbye, which its link's caches
/// would otherwise keep, and other islands import, for minutes.
///
/// The checks are the SIP service's `ContactProber` (its OPTIONS leave and come back through
/// the SIP socket, with the checks of contacts handed out in 302s); this only maps UAs to the
/// contacts to check, and the checks' health back to UAs. Pure: no clock, no socket. The
/// daemon runs it on each snapshot and hands the result to `ExportPlanner.setNotAnswering`.
///
/// Checked: the SIP-typed services hosts announce on the link that the leader exports, is
/// about to export, or withholds for not answering — not those denied or unreachable anyway.
/// A UA is not answering when it has contacts that are checked and every one is dead; a
/// contact named by a host name is never checked, so a UA with one is never withdrawn. Nor
/// is a UA with a contact over TCP or TLS (`_sip._tcp`, `sips:`): the checks go over UDP
/// only, and a UDP silence says nothing about them.
public enum LocalUAChecks {
    /// The contacts to check, by UA, while `view`'s gateway leads (none otherwise).
    public static func contacts(of view: GatewayView) -> [ServiceID: [SIPURI]] {
        guard view.isLeading else { return [:] }
        return contacts(of: view.hostServices, decision: view.exportDecision)
    }

    /// The contacts to check among `services`, given the export side's decision on each.
    public static func contacts(
        of services: [DiscoveredService], decision: (DiscoveredService) -> ExportDecision
    ) -> [ServiceID: [SIPURI]] {
        var contacts: [ServiceID: [SIPURI]] = [:]
        for service in services where SIPAnnouncement.isSIPServiceType(service.instance.type) {
            switch decision(service) {
            case .exported, .settling, .skipped(.notAnswering): break
            case .exportable, .skipped: continue
            }
            guard let announcement = try? SIPAnnouncement(service: service.instance) else { continue }
            let uris = announcement.contacts(for: service.instance).compactMap { contact -> SIPURI? in
                if case .sip(let uri) = contact.uri { uri } else { nil }
            }
            if !uris.isEmpty, uris.allSatisfy(isCheckedOverUDP) { contacts[service.id] = uris }
        }
        return contacts
    }

    /// Whether an OPTIONS over UDP can tell if this contact answers.
    static func isCheckedOverUDP(_ uri: SIPURI) -> Bool {
        guard !uri.isSecure else { return false }
        if case .some(.some(let transport)) = uri.parameter("transport") { return transport.lowercased() == "udp" }
        return true
    }

    /// The UAs whose checked contacts are all dead.
    public static func notAnswering(
        _ contacts: [ServiceID: [SIPURI]], health: (SIPHop) -> ContactProber.Health
    ) -> Set<ServiceID> {
        Set(contacts.compactMap { id, uris -> ServiceID? in
            let hops = uris.map { SIPHop($0) }
            let checked = hops.filter { if case .name = $0.host { false } else { true } }
            guard !checked.isEmpty, checked.count == hops.count, checked.allSatisfy({ health($0) == .dead }) else { return nil }
            return id
        })
    }
}
