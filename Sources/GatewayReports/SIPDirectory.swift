import DNSSD
import Gateway
import LocalDomain
import SIP

/// SIP user agents this gateway can see: every SIP-typed service on its link, the local
/// ones and those its island's leader imported from other islands (they are services on
/// the link like any other). The SIP redirect service answers an AoR from here first.
///
/// The leader answers from its link's hosts and its imports as the DHT last told it (a
/// withdrawal counts at once, not a second later when the link's caches let the imported
/// record go); a follower from its link. An AoR found nowhere here is looked up under its
/// own key, `sip/<AoR>`, where every leader binds its island's UAs (`SIPBinding`): the
/// daemon does that get (`GatewayStatus.lookUp`), so a leader whose policy keeps SIP types
/// off its link still redirects to them.
public enum SIPDirectory {
    /// The service instances a SIP lookup searches on this gateway.
    public static func services(of view: GatewayView) -> [ServiceInstance] {
        guard view.isLeading else { return view.linkServices.map(\.instance) }
        return view.hostServices.map(\.instance) + view.imports.values.map(instance(of:))
    }

    /// An import as the service instance it publishes (with the remote host's addresses).
    public static func instance(of imported: ImportPlanner.Imported) -> ServiceInstance {
        let record = imported.record
        var host = HostName.local
        if case .synthesized(let name, _) = imported.publication.host { host = name }
        return ServiceInstance(name: record.name, type: record.type, host: host, port: record.port, txt: record.txt,
                               subtypes: record.subtypes, addresses: record.addresses)
    }

    /// The contacts of every UA among `services` announced for `addressOfRecord`.
    public static func contacts(for addressOfRecord: SIPAddressOfRecord, among services: [ServiceInstance]) -> [SIPContact] {
        var contacts: [SIPContact] = []
        for service in services where SIPAnnouncement.isSIPServiceType(service.type) {
            guard let announcement = try? SIPAnnouncement(service: service),
                  announcement.addressOfRecord == addressOfRecord else { continue }
            for contact in announcement.contacts(for: service) where !contacts.contains(contact) {
                contacts.append(contact)
            }
        }
        return contacts
    }

    /// The contacts of every UA among `services` whose AoR has this user part, whatever its
    /// host: what `sip:alice@<gateway>` reaches.
    public static func contacts(forUser user: [UInt8], among services: [ServiceInstance]) -> [SIPContact] {
        var contacts: [SIPContact] = []
        for service in services where SIPAnnouncement.isSIPServiceType(service.type) {
            guard let announcement = try? SIPAnnouncement(service: service),
                  announcement.addressOfRecord.userBytes == user else { continue }
            for contact in announcement.contacts(for: service) where !contacts.contains(contact) {
                contacts.append(contact)
            }
        }
        return contacts
    }

    /// The contacts in records read from an AoR's own key.
    public static func contacts(for addressOfRecord: SIPAddressOfRecord, in records: [ServiceRecord]) -> [SIPContact] {
        contacts(for: addressOfRecord, among: records.map(SIPBinding.instance(of:)))
    }
}
