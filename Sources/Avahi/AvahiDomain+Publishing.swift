import CAvahi
import DNSSD
import LocalDomain

/// Publishing: one entry group per publication, one per synthesized host (its address
/// records, shared by the publications that point to it), renames on collision as
/// `PublicationTable` decides them, groups spread over object clients as `ClientPool`
/// places them. Calls from outside take the poll lock; group callbacks run
/// on Avahi's thread with it held.
extension AvahiDomain {
    /// Whom an entry group belongs to.
    enum GroupOwner: Hashable {
        case service(PublicationID)
        case host(String)
    }

    // MARK: - LocalDomain: publishing

    public func publish(_ publication: Publication) async throws(PublishError) -> PublicationID {
        try locked { () throws(PublishError) -> PublicationID in
            guard !isShutDown else { throw .shutDown }
            let (id, newHost) = try publications.add(publication)
            guard running, let client else {
                continuation.yield(.publication(id, .waiting))
                return id
            }
            do throws(PublishError) {
                if let newHost { try announceHost(newHost, client: client) }
                try announceService(id, client: client)
            } catch {
                // Nothing half-published: drop what was added for this publication.
                withdrawLocked(id)
                throw error
            }
            return id
        }
    }

    public func update(_ id: PublicationID, to publication: Publication) async throws(PublishError) {
        try locked { () throws(PublishError) in
            guard !isShutDown else { throw .shutDown }
            let (kind, newHost, releasedHost) = try publications.update(id, to: publication)
            if let releasedHost { withdrawHost(releasedHost) }
            guard running, let client else { return }
            if let newHost { try announceHost(newHost, client: client) }
            switch kind {
            case .txtOnly:
                guard let group = serviceGroups[id], let entry = publications.entries[id] else { return }
                let publication = entry.publication
                switch publication.announcement {
                case .probed:
                    let list = AvahiConversions.stringList(publication.txt)
                    defer { avahi_string_list_free(list) }
                    try check(avahi_entry_group_update_service_txt_strlst(
                        group, scopedInterface, AvahiProtocol(AVAHI_PROTO_UNSPEC), AVAHI_PUBLISH_NO_COOKIE,
                        entry.name.value, publication.type.description, publication.domain.value, list))
                case .immediate:
                    let record = RawRecord.txtRecord(name: entry.name, type: publication.type, domain: publication.domain,
                                                     txt: publication.txt)
                    try add([record], to: group, update: true)
                }
            case .reregister:
                try announceService(id, client: client)
            }
        }
    }

    public func withdraw(_ id: PublicationID) async {
        locked { withdrawLocked(id) }
    }

    /// Commits every host and service we publish (on a new client, or after the daemon reset
    /// our groups).
    func publishEverything(_ client: OpaquePointer) {
        for key in publications.hosts.keys.sorted() {
            do throws(PublishError) { try announceHost(key, client: client) } catch {
                logger.warning("cannot announce host", metadata: ["host": "\(key)", "reason": "\(error)"])
            }
        }
        for id in publications.entries.keys.sorted() { reannounce(id, client: client) }
    }

    // MARK: - Entry groups

    /// Announces a synthesized host's address records in a group of their own.
    private func announceHost(_ key: String, client: OpaquePointer) throws(PublishError) {
        guard let host = publications.hosts[key] else { return }
        if let old = hostGroups.removeValue(forKey: key) { discardGroup(old) }
        let group = try newGroup(owner: .host(key))
        do throws(PublishError) {
            switch host.announcement {
            case .probed:
                let dualStack = host.addresses.contains { !$0.isIPv4 }
                for address in host.addresses {
                    var value = AvahiConversions.avahiAddress(address)
                    let over = RawRecord.announcedOver(address, dualStack: dualStack)
                    try check(avahi_entry_group_add_address(
                        group, scopedInterface, AvahiConversions.protocolValue(over), AVAHI_PUBLISH_NO_REVERSE,
                        host.announced.value, &value))
                }
            case .immediate:
                try add(RawRecord.addresses(of: host.announced, host.addresses), to: group)
            }
        } catch {
            discardGroup(group)
            throw error
        }
        try commit(group)
        hostGroups[key] = group
    }

    /// (Re)builds and commits the service group of a publication under its current name.
    private func announceService(_ id: PublicationID, client: OpaquePointer) throws(PublishError) {
        guard let entry = publications.entries[id] else { throw .unknownPublication(id) }
        let group: OpaquePointer
        if let existing = serviceGroups[id] {
            avahi_entry_group_reset(existing)
            group = existing
        } else {
            group = try newGroup(owner: .service(id))
        }
        let publication = entry.publication
        let host = publications.target(of: id)
        // The records of an immediate publication, announced at once after the commit.
        var records: [RawRecord] = []
        do throws(PublishError) {
            switch publication.announcement {
            case .probed:
                let list = AvahiConversions.stringList(publication.txt)
                defer { avahi_string_list_free(list) }
                try check(avahi_entry_group_add_service_strlst(
                    group, scopedInterface, AvahiProtocol(AVAHI_PROTO_UNSPEC), AVAHI_PUBLISH_NO_COOKIE,
                    entry.name.value, publication.type.description, publication.domain.value, host?.value,
                    publication.port, list))
                for subtype in publication.subtypes {
                    try check(avahi_entry_group_add_service_subtype(
                        group, scopedInterface, AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0),
                        entry.name.value, publication.type.description, publication.domain.value,
                        subtype.fullName(of: publication.type)))
                }
            case .immediate:
                guard let target = host ?? thisHostName(client) else {
                    throw .refused(code: -1, message: "this host's name is not known yet")
                }
                records = RawRecord.service(name: entry.name, type: publication.type, subtypes: publication.subtypes,
                                            domain: publication.domain, port: publication.port, txt: publication.txt,
                                            target: target)
                try add(records, to: group)
            }
        } catch {
            serviceGroups[id] = nil
            discardGroup(group)
            throw error
        }
        serviceGroups[id] = group
        do throws(PublishError) { try commit(group) } catch {
            serviceGroups[id] = nil
            discardGroup(group)
            throw error
        }
        continuation.yield(.publication(id, .registering(entry.name)))
        if !records.isEmpty { announceAtOnce(records, of: id) }
    }

    /// Sends an immediate publication's records ourselves as soon as avahi-daemon holds
    /// them (`Options.announcer`): avahi-daemon waits a random 0–250 ms before the first
    /// announcement of an entry it does not probe (avahi-core/announce.c,
    /// `AVAHI_ANNOUNCEMENT_JITTER_MSEC`), which was most of a router's publish latency. The
    /// records are the very ones committed, host addresses included, so avahi-daemon takes
    /// them for its own (equal records are no conflict) and its announcements follow as usual.
    private func announceAtOnce(_ service: [RawRecord], of id: PublicationID) {
        guard let announcer = options.announcer else { return }
        var records = service
        if let entry = publications.entries[id], case .synthesized(let name, _) = entry.publication.host,
           let host = publications.hosts[PublicationTable.hostKey(name)] {
            records = RawRecord.addresses(of: host.announced, host.addresses) + records
        }
        announcer(RawRecord.announcement(records, over: .ipv4), RawRecord.announcement(records, over: .ipv6))
    }

    /// Re-announces after a reconnect or a collision; failures become events, not throws.
    private func reannounce(_ id: PublicationID, client: OpaquePointer) {
        do throws(PublishError) { try announceService(id, client: client) } catch {
            logger.warning("publication refused", metadata: ["publication": "\(id)", "reason": "\(error)"])
            continuation.yield(.publication(id, .failed(error.description)))
            withdrawLocked(id)
        }
    }

    /// Adds raw records to a group; unique ones skip probing (see `RawRecord`).
    private func add(_ records: [RawRecord], to group: OpaquePointer, update: Bool = false) throws(PublishError) {
        for record in records {
            var flags = record.unique ? AVAHI_PUBLISH_UNIQUE.rawValue | AVAHI_PUBLISH_NO_PROBE.rawValue : 0
            // Without it a host's second IPv4 (or IPv6) address is a "local name collision" with its first.
            if record.isAddress { flags |= AVAHI_PUBLISH_ALLOW_MULTIPLE.rawValue }
            if update { flags |= AVAHI_PUBLISH_UPDATE.rawValue }
            try check(record.rdata.withUnsafeBytes { rdata in
                avahi_entry_group_add_record(
                    group, scopedInterface, AvahiConversions.protocolValue(record.only), AvahiPublishFlags(flags),
                    record.name, UInt16(AVAHI_DNS_CLASS_IN), record.type, record.ttl, rdata.baseAddress, rdata.count)
            })
        }
    }

    private func check(_ result: Int32) throws(PublishError) {
        guard result >= 0 else { throw .refused(code: result, message: AvahiConversions.errorText(result)) }
    }

    /// This host's own name as avahi-daemon announces it (`myhost.local`).
    private func thisHostName(_ client: OpaquePointer) -> HostName? {
        try? HostName(AvahiConversions.text(avahi_client_get_host_name_fqdn(client)))
    }

    /// A new entry group on an object client.
    private func newGroup(owner: GroupOwner) throws(PublishError) -> OpaquePointer {
        let group = try newObject { client in
            avahi_entry_group_new(client, AvahiCallbacks.entryGroup, AvahiCallbacks.context(of: self))
        }
        groupOwners[group] = owner
        return group
    }

    private func commit(_ group: OpaquePointer) throws(PublishError) {
        try check(avahi_entry_group_commit(group))
    }

    private func discardGroup(_ group: OpaquePointer) {
        groupOwners[group] = nil
        releaseObject(group)
        avahi_entry_group_free(group)
    }

    func groupChanged(_ group: OpaquePointer, _ state: AvahiEntryGroupState) {
        guard let owner = groupOwners[group], let client, let groupClient = avahi_entry_group_get_client(group) else { return }
        switch (owner, state) {
        case (.service(let id), AVAHI_ENTRY_GROUP_ESTABLISHED):
            if let name = publications.entries[id]?.name {
                logger.debug("published", metadata: ["publication": "\(id)", "name": "\(name)"])
                continuation.yield(.publication(id, .established(name)))
            }
        case (.service(let id), AVAHI_ENTRY_GROUP_COLLISION):
            guard let old = publications.entries[id]?.name, let new = publications.nameCollided(id) else { return }
            logger.info("name collision, renaming", metadata: ["from": "\(old)", "to": "\(new)"])
            continuation.yield(.publication(id, .renamed(from: old, to: new)))
            reannounce(id, client: client)
        case (.host(let key), AVAHI_ENTRY_GROUP_COLLISION):
            guard let (announced, users) = publications.hostCollided(key) else { return }
            logger.info("host name collision, renaming host", metadata: ["host": "\(announced)"])
            do throws(PublishError) { try announceHost(key, client: client) } catch {
                logger.warning("cannot announce renamed host", metadata: ["host": "\(announced)", "reason": "\(error)"])
            }
            for id in users { reannounce(id, client: client) }
        case (.service(let id), AVAHI_ENTRY_GROUP_FAILURE):
            let reason = AvahiConversions.errorText(avahi_client_errno(groupClient))
            continuation.yield(.publication(id, .failed(reason)))
            withdrawLocked(id)
        case (.host(let key), AVAHI_ENTRY_GROUP_FAILURE):
            logger.warning("host records failed", metadata: ["host": "\(key)",
                           "reason": "\(AvahiConversions.errorText(avahi_client_errno(groupClient)))"])
        default:
            break
        }
    }

    func withdrawLocked(_ id: PublicationID) {
        if let group = serviceGroups.removeValue(forKey: id) { discardGroup(group) }
        guard let (_, releasedHost) = publications.remove(id) else { return }
        if let releasedHost { withdrawHost(releasedHost) }
    }

    private func withdrawHost(_ key: String) {
        if let group = hostGroups.removeValue(forKey: key) { discardGroup(group) }
    }
}
