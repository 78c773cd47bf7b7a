import DNSSD
import Gateway
import LocalDomain
import Rendezvous
import SIP

/// SIP user agents this gateway can see: every SIP-typed service on its link, the local
/// ones and those its island's leader imported from other islands (they are services on
/// the link like any other). The SIP redirect service answers an AoR from here.
///
/// A lookup first answers from what the gateway holds: every UA of every island whose SIP
/// types the policy lets in is imported anyway, so that costs no network round trip. The
/// leader answers from its exports' local services and its imports as the DHT last told it
/// (a withdrawal counts at once, not a second later when the link's caches let the imported
/// record go); a follower from its link. An AoR found nowhere there is looked up under its
/// own key, `sip/<AoR>`, where every leader binds its island's UAs (`SIPBinding`): so a
/// leader whose policy keeps SIP types off its link still redirects to them.
public enum SIPDirectory {
    /// The contacts for `addressOfRecord`: held here, else from the rendezvous (leaders only:
    /// a follower is not in the rendezvous).
    public static func lookUp(
        _ addressOfRecord: SIPAddressOfRecord, in snapshot: GatewayDriver.Snapshot, rendezvous: any Rendezvous
    ) async -> [SIPContact] {
        let held = contacts(for: addressOfRecord, among: services(of: snapshot))
        guard held.isEmpty, snapshot.machine.export.isActive else { return held }
        let key = RecordKeys.sip(addressOfRecord, network: snapshot.machine.settings.network)
        guard let values = try? await rendezvous.get(key: key) else { return [] }
        let instances = values.compactMap { try? ServiceRecordCodec.decode($0.payload) }.map(SIPBinding.instance(of:))
        return contacts(for: addressOfRecord, among: instances)
    }

    /// The service instances a SIP lookup searches on this gateway.
    public static func services(of snapshot: GatewayDriver.Snapshot) -> [ServiceInstance] {
        let machine = snapshot.machine
        guard machine.export.isActive else { return snapshot.localServices.values.map(\.instance) }
        return linkServices(machine) + machine.imports.imports.values.map(instance(of:))
    }

    /// The services hosts on this link publish: not this gateway's imports nor any other
    /// gateway's publications.
    public static func linkServices(_ machine: GatewayMachine) -> [ServiceInstance] {
        machine.export.services.values.filter(\.isPublishedByAHost).map(\.instance)
    }

    /// An import as the service instance it publishes (with the remote host's addresses).
    public static func instance(of imported: ImportPlanner.Imported) -> ServiceInstance {
        let record = imported.record
        var host = HostName.local
        if case .synthesized(let name, _) = imported.publication.host { host = name }
        return ServiceInstance(name: record.name, type: record.type, host: host, port: record.port, txt: record.txt,
                               subtypes: record.subtypes, addresses: record.addresses)
    }

    /// The contacts of every UA on the link announced for `addressOfRecord`.
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
}
