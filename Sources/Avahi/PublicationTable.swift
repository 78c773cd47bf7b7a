import DNSSD
import LocalDomain

/// The publications an `AvahiDomain` keeps announced, and the names they currently use.
///
/// Pure bookkeeping for the wrapper: it hands out ids, applies each publication's rename
/// rule after a collision, and shares one synthesized host among the publications that
/// point to it (one address-record group per host, one service group per publication, so
/// withdrawals stay independent).
struct PublicationTable {
    struct Entry: Sendable {
        var publication: Publication
        /// The name currently announced or being probed.
        var name: InstanceName
        var collisions = 0
    }

    /// A host name we announce address records for, shared by the publications using it.
    struct SynthesizedHost: Sendable {
        /// The name asked for; publications refer to the host by it.
        var requested: HostName
        /// The name announced (differs from `requested` after a host-name collision).
        var announced: HostName
        var addresses: [IPAddress]
        var users: Set<PublicationID> = []
        var collisions = 0
        /// Announced without probing (decided by the publication that introduced it).
        var announcement: Announcement = .probed
    }

    /// How an update must be carried out.
    enum UpdateKind: Equatable {
        /// Only the TXT record changed: Avahi can replace it in place.
        case txtOnly
        /// Port, subtypes or host changed: the service records must be re-registered.
        case reregister
    }

    private(set) var entries: [PublicationID: Entry] = [:]
    private(set) var hosts: [String: SynthesizedHost] = [:]
    private var nextID: UInt64 = 1
    /// Publications by the name they use now: browse results under it are ours.
    private var byName: [ServiceID: PublicationID] = [:]

    /// Registers a publication. Returns its id and, when it introduces a synthesized host or
    /// changes its addresses, that host's key (the wrapper then (re)announces the host).
    mutating func add(_ publication: Publication) throws(PublishError) -> (id: PublicationID, newHost: String?) {
        try publication.validate()
        let id = PublicationID(nextID)
        let newHost = attachHost(of: publication, to: id)
        nextID += 1
        entries[id] = Entry(publication: publication, name: publication.name)
        byName[publication.id] = id
        return (id, newHost)
    }

    /// The publication announced under `name`, if one of ours is.
    func entry(named name: ServiceID) -> Entry? {
        byName[name].flatMap { entries[$0] }
    }

    /// Forgets a publication; returns the host it released when it was that host's last user.
    mutating func remove(_ id: PublicationID) -> (entry: Entry, releasedHost: String?)? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        forgetName(of: entry, id)
        return (entry, detachHost(of: entry.publication, from: id))
    }

    /// Applies an update to name-preserving fields. Returns how to carry it out, plus hosts
    /// that appeared or were released by the change.
    mutating func update(_ id: PublicationID, to publication: Publication) throws(PublishError)
        -> (kind: UpdateKind, newHost: String?, releasedHost: String?) {
        guard var entry = entries[id] else { throw .unknownPublication(id) }
        try publication.validate()
        let old = entry.publication
        var kind: UpdateKind = .txtOnly
        var newHost: String?
        var releasedHost: String?
        if old.host != publication.host {
            releasedHost = detachHost(of: old, from: id)
            newHost = attachHost(of: publication, to: id)
            // The same host with new addresses: re-announcing it replaces its records.
            if releasedHost == newHost { releasedHost = nil }
            kind = .reregister
        }
        if old.port != publication.port || old.subtypes != publication.subtypes { kind = .reregister }
        entry.publication.port = publication.port
        entry.publication.txt = publication.txt
        entry.publication.subtypes = publication.subtypes
        entry.publication.host = publication.host
        entries[id] = entry
        return (kind, newHost, releasedHost)
    }

    /// Another host holds the name: the next name by the publication's rename rule.
    mutating func nameCollided(_ id: PublicationID) -> InstanceName? {
        guard var entry = entries[id] else { return nil }
        forgetName(of: entry, id)
        entry.collisions += 1
        entry.name = entry.publication.renameRule.alternative(to: entry.publication.name, attempt: entry.collisions)
        entries[id] = entry
        byName[Self.serviceID(of: entry)] = id
        return entry.name
    }

    /// Another machine uses the synthesized host name: pick the next one ("name-2.local").
    /// Returns the new name and the publications whose SRV records must point to it.
    mutating func hostCollided(_ key: String) -> (announced: HostName, users: [PublicationID])? {
        guard var host = hosts[key] else { return nil }
        host.collisions += 1
        host.announced = Self.alternative(to: host.requested, attempt: host.collisions)
        hosts[key] = host
        return (host.announced, host.users.sorted())
    }

    /// The SRV target of a publication: nil for this host's own name.
    func target(of id: PublicationID) -> HostName? {
        guard let entry = entries[id], case .synthesized(let name, _) = entry.publication.host else { return nil }
        return hosts[name.canonical]?.announced
    }

    static func hostKey(_ name: HostName) -> String { name.canonical }

    private static func serviceID(of entry: Entry) -> ServiceID {
        ServiceID(name: entry.name, type: entry.publication.type, domain: entry.publication.domain)
    }

    /// Two publications under one name (a clash the daemon resolves by renaming one): the
    /// name stays with the newer until that one leaves it.
    private mutating func forgetName(of entry: Entry, _ id: PublicationID) {
        let name = Self.serviceID(of: entry)
        if byName[name] == id { byName[name] = nil }
    }

    /// Shares the host among its publications. Its addresses are those of the latest
    /// publication naming it (a remote host whose address changed); returns the key when the
    /// host must be (re)announced.
    private mutating func attachHost(of publication: Publication, to id: PublicationID) -> String? {
        guard case .synthesized(let name, let addresses) = publication.host else { return nil }
        let key = Self.hostKey(name)
        let sorted = Array(Set(addresses)).sorted()
        if var host = hosts[key] {
            host.users.insert(id)
            let changed = host.addresses != sorted
            host.addresses = sorted
            hosts[key] = host
            return changed ? key : nil
        }
        hosts[key] = SynthesizedHost(requested: name, announced: name, addresses: sorted, users: [id],
                                     announcement: publication.announcement)
        return key
    }

    private mutating func detachHost(of publication: Publication, from id: PublicationID) -> String? {
        guard case .synthesized(let name, _) = publication.host else { return nil }
        let key = Self.hostKey(name)
        hosts[key]?.users.remove(id)
        guard hosts[key]?.users.isEmpty == true else { return nil }
        hosts[key] = nil
        return key
    }

    /// "gw-printer.local" → "gw-printer-2.local": the first label gets a counter.
    static func alternative(to host: HostName, attempt: Int) -> HostName {
        var labels = host.labels.map(String.init)
        guard let first = labels.first else { return host }
        let tail = "-\(attempt + 1)"
        var kept = ""
        for character in first where kept.utf8.count + character.utf8.count + tail.utf8.count <= 63 {
            kept.append(character)
        }
        labels[0] = kept + tail
        return (try? HostName(labels.joined(separator: "."))) ?? host
    }
}
