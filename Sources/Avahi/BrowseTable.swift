import DNSSD
import LocalDomain

/// The protocol an mDNS record arrived over, or an address belongs to.
enum AddressFamily: Hashable, Comparable, Sendable, CaseIterable {
    case ipv4, ipv6
}

/// Where Avahi reported a browse result: the interface and the protocol of the mDNS packets.
/// One service on a dual-stack link is usually seen twice per interface (once per protocol).
struct Sighting: Hashable, Comparable, Sendable {
    var interface: InterfaceIndex
    var family: AddressFamily

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.interface, lhs.family) < (rhs.interface, rhs.family) }
}

/// One running service resolver: which service, which sighting it follows, which address
/// family it asks for. Avahi's resolver reports a single address, so two run per interface.
struct ResolverKey: Hashable, Sendable {
    var id: ServiceID
    var sighting: Sighting
    var family: AddressFamily
}

/// What one resolver reported.
struct Resolution: Hashable, Sendable {
    var host: HostName
    var port: UInt16
    var txt: TXTRecord
    var droppedTXT: [DNSSDError]
    var address: IPAddress?
}

/// How resolved services are kept current (`AvahiDomain.Options.upkeep`).
public enum ResolutionUpkeep: Hashable, Sendable {
    /// Resolvers and host watches stay open, so avahi-daemon asks the link for every SRV,
    /// TXT and address record again before its TTL (120 s) runs out: a service's changes,
    /// and its host's silence, are seen whatever the link says unasked.
    case continuous
    /// A service is resolved once, and its host's addresses watched until avahi-daemon says
    /// "all for now"; then both are freed, and made again only when a record heard on the
    /// link (`AvahiDomain.recordsHeard`) differs from what they said. Nothing is asked of
    /// the link at rest (router mode, where every query costs each link airtime); a host
    /// that leaves without a goodbye is seen to go only when its PTR expires, as by any
    /// browser on the link.
    case onChange
}

/// Merges Avahi's per-interface, per-protocol browse and resolve results into one
/// `DiscoveredService` per service id, and decides which resolvers must run.
///
/// Pure state machine: the Avahi wrapper feeds it callbacks and carries out its effects.
/// Rules:
/// - a service exists while at least one sighting of it exists;
/// - per interface one sighting is resolved (IPv4 preferred), with one resolver per address
///   family; host/port/TXT come from the newest resolution;
/// - a resolver reports one address, so the host it names is watched as well (its A and
///   AAAA records on that interface, `HostAddressTable`): the service's addresses are the
///   union over interfaces of what its resolvers and its host's records say;
/// - with `.onChange` upkeep, a service's resolvers on an interface stop at its first
///   resolution there, and start again when `resolveAgain` is asked (`outdated(by:)` says
///   when); host watches pause likewise (`hostWatchSettled`, `hostWatchRestarting`);
/// - `.added` is emitted at the first resolution, `.changed` only when the merged view differs,
///   `.removed` only for services that were reported;
/// - after the responder connection is lost, entries are kept as stale so a restart of
///   avahi-daemon does not look like every service leaving; `sweepStale` removes those that
///   did not come back.
struct BrowseTable {
    enum Effect: Hashable, Sendable {
        case startResolver(ResolverKey)
        case stopResolver(ResolverKey)
        /// Browse the A and AAAA records of a host on an interface (`hostAddress…` answer).
        case startHostWatch(HostWatch)
        case stopHostWatch(HostWatch)
        case emit(LocalDomainEvent)
    }

    private struct InterfaceResolution: Hashable {
        var interface: InterfaceIndex
        var family: AddressFamily
    }

    private struct Entry {
        var sightings: [Sighting: Origin] = [:]
        /// The sighting followed by resolvers, per interface.
        var resolving: [InterfaceIndex: Sighting] = [:]
        var resolutions: [InterfaceResolution: (resolution: Resolution, serial: UInt64)] = [:]
        var failed: Set<ResolverKey> = []
        /// Interfaces whose resolvers stopped after answering (`.onChange` upkeep).
        var idle: Set<InterfaceIndex> = []
        /// The host watched per interface: the one the newest resolution there names. Kept
        /// across a reconnect (its addresses stale until seen again), like the resolutions.
        var watching: [InterfaceIndex: HostWatch] = [:]
        var reported: DiscoveredService?
        var stale = false
        /// The origin last seen; kept across reconnects (flags come only with browse events).
        var origin: Origin = []
    }

    /// What a record heard on the link showed out of date (`outdated(by:)`).
    enum Outdated: Hashable, Comparable, Sendable {
        case service(ServiceID)
        /// A host name in canonical form (`HostWatch.host`).
        case host(String)
    }

    let upkeep: ResolutionUpkeep
    private var entries: [ServiceID: Entry] = [:]
    private var serial: UInt64 = 0
    private var hosts = HostAddressTable()

    init(upkeep: ResolutionUpkeep = .continuous) { self.upkeep = upkeep }

    /// Host watches running (for tests and status).
    var hostWatches: Int { hosts.count }

    var count: Int { entries.count }

    /// Services that have sightings but no resolution yet and whose resolvers have not all failed.
    var pendingResolutions: Int {
        entries.values.filter { entry in
            guard !entry.sightings.isEmpty, entry.reported == nil else { return false }
            return entry.resolving.count * AddressFamily.allCases.count > entry.failed.count
        }.count
    }

    mutating func sightingAdded(_ id: ServiceID, _ sighting: Sighting, origin: Origin) -> [Effect] {
        var entry = entries[id] ?? Entry()
        entry.stale = false
        entry.sightings[sighting] = origin
        entry.origin = entry.sightings.values.reduce(into: Origin()) { $0.formUnion($1) }
        var effects: [Effect] = []
        if entry.resolving[sighting.interface] == nil
            || (sighting.family == .ipv4 && entry.resolving[sighting.interface]?.family == .ipv6) {
            effects += switchResolvers(of: id, &entry, interface: sighting.interface, to: sighting)
        }
        entries[id] = entry
        return effects + reportIfChanged(id)
    }

    mutating func sightingRemoved(_ id: ServiceID, _ sighting: Sighting) -> [Effect] {
        guard var entry = entries[id], entry.sightings.removeValue(forKey: sighting) != nil else { return [] }
        var effects: [Effect] = []
        if entry.resolving[sighting.interface] == sighting {
            let replacement = entry.sightings.keys.filter { $0.interface == sighting.interface }.min()
            effects += switchResolvers(of: id, &entry, interface: sighting.interface, to: replacement)
            if replacement == nil {
                entry.resolutions = entry.resolutions.filter { $0.key.interface != sighting.interface }
                effects += rewatch(id, &entry, interface: sighting.interface)
            }
        }
        guard entry.sightings.isEmpty else {
            entries[id] = entry
            return effects + reportIfChanged(id)
        }
        entries[id] = nil
        for watch in entry.watching.values.sorted() { effects += hosts.release(watch, by: id).map(Self.effect) }
        if entry.reported != nil { effects.append(.emit(.removed(id))) }
        return effects
    }

    mutating func resolved(_ key: ResolverKey, _ resolution: Resolution) -> [Effect] {
        guard var entry = entries[key.id], entry.resolving[key.sighting.interface] == key.sighting else { return [] }
        serial += 1
        entry.failed.remove(key)
        entry.resolutions[InterfaceResolution(interface: key.sighting.interface, family: key.family)] = (resolution, serial)
        var effects = rewatch(key.id, &entry, interface: key.sighting.interface)
        if upkeep == .onChange, entry.idle.insert(key.sighting.interface).inserted {
            // One answer is enough: the other family's resolver adds only an address the host watch sees too.
            for family in AddressFamily.allCases {
                let stopped = ResolverKey(id: key.id, sighting: key.sighting, family: family)
                entry.failed.remove(stopped)
                effects.append(.stopResolver(stopped))
            }
        }
        entries[key.id] = entry
        return effects + reportIfChanged(key.id)
    }

    /// What `record`, heard on the link, shows out of date: the service of an SRV or TXT
    /// record (with a TTL) that differs from its resolution while its resolvers are stopped,
    /// or the host of an address announced that its watches have not seen (and have room
    /// for), or said goodbye to that they hold. Nil when it agrees, or names nothing
    /// resolved yet, or resolvers at work (they will report it); whether a host's watches
    /// are at work is the caller's to know.
    func outdated(by record: MDNSResponse.Record) -> Outdated? {
        switch record.data {
        case .srv(let port, let target):
            guard record.ttl > 0, let id = record.serviceID, let entry = entries[id], !entry.idle.isEmpty,
                  let known = entry.reported?.instance else { return nil }
            return known.port != port || known.host.canonical != MDNSResponse.canonical(target) ? .service(id) : nil
        case .txt(let strings):
            guard record.ttl > 0, let id = record.serviceID, let entry = entries[id], !entry.idle.isEmpty,
                  let known = entry.reported?.instance else { return nil }
            return TXTRecord.receiving(strings).record != known.txt ? .service(id) : nil
        case .address(let address):
            let host = record.canonicalOwner
            let differs = hosts.watches(onHost: host).contains { watch in
                let held = hosts.addresses(of: watch).contains(address)
                return record.ttl > 0 ? !held && !hosts.isFull(watch) : held
            }
            return differs ? .host(host) : nil
        }
    }

    /// Starts again the resolvers of `id` that stopped after answering (`.onChange` upkeep).
    mutating func resolveAgain(_ id: ServiceID) -> [Effect] {
        guard var entry = entries[id] else { return [] }
        var effects: [Effect] = []
        for interface in entry.idle.sorted() {
            guard let sighting = entry.resolving[interface] else { continue }
            effects += AddressFamily.allCases.map { .startResolver(ResolverKey(id: id, sighting: sighting, family: $0)) }
        }
        entry.idle = []
        entries[id] = entry
        return effects
    }

    /// The watches on `host` (canonical form), sorted.
    func hostWatches(onHost host: String) -> [HostWatch] { hosts.watches(onHost: host) }

    /// `watch`'s record browsers start again after a pause: what they saw stands until
    /// `hostWatchSettled`, and goes then unless seen again. The services on the host are
    /// resolved again too: the address each resolver reported is as old as the watch's.
    mutating func hostWatchRestarting(_ watch: HostWatch) -> [Effect] {
        hosts.restarting(watch)
        return hosts.users(of: watch).sorted().flatMap { resolveAgain($0) }
    }

    /// `watch`'s record browsers said "all for now".
    mutating func hostWatchSettled(_ watch: HostWatch) -> [Effect] {
        hosts.settled(watch).sorted().flatMap { reportIfChanged($0) }
    }

    /// A record browser of `watch` saw the host's `address` over `family` (added) or saw it go.
    mutating func hostAddress(_ watch: HostWatch, _ address: IPAddress, over family: AddressFamily,
                              added: Bool) -> [Effect] {
        let affected = added ? hosts.added(watch, address, over: family) : hosts.removed(watch, address, over: family)
        return affected.sorted().flatMap { reportIfChanged($0) }
    }

    mutating func resolveFailed(_ key: ResolverKey) -> [Effect] {
        guard var entry = entries[key.id], entry.resolving[key.sighting.interface] == key.sighting else { return [] }
        let interface = key.sighting.interface
        guard upkeep == .onChange, entry.resolutions.keys.contains(where: { $0.interface == interface }) else {
            entry.failed.insert(key)
            entries[key.id] = entry
            return []
        }
        // Resolved again and not answered (its host is silent): what the first answer said
        // stands, and a failed resolver must not go on asking.
        entry.idle.insert(interface)
        entries[key.id] = entry
        return AddressFamily.allCases.map { .stopResolver(ResolverKey(id: key.id, sighting: key.sighting, family: $0)) }
    }

    /// Whether the failed resolver `key` is worth making again: it still follows the sighting
    /// its service is resolved through on that interface, and nothing resolved it there yet.
    func needsResolverRetry(_ key: ResolverKey) -> Bool {
        guard let entry = entries[key.id], entry.resolving[key.sighting.interface] == key.sighting,
              entry.failed.contains(key) else { return false }
        return !entry.resolutions.keys.contains { $0.interface == key.sighting.interface }
    }

    /// The responder connection is gone and every browser and resolver with it.
    mutating func disconnected() {
        for id in entries.keys {
            entries[id]?.sightings = [:]
            entries[id]?.resolving = [:]
            entries[id]?.failed = []
            entries[id]?.idle = []
            entries[id]?.stale = true
        }
        hosts.disconnected()
    }

    /// Removes services that were not seen again since `disconnected()`.
    mutating func sweepStale() -> [Effect] {
        var effects: [Effect] = []
        for (id, entry) in entries.sorted(by: { $0.key < $1.key }) where entry.stale {
            entries[id] = nil
            if entry.reported != nil { effects.append(.emit(.removed(id))) }
        }
        return effects + hosts.sweepStale().sorted().flatMap { reportIfChanged($0) }
    }

    func service(_ id: ServiceID) -> DiscoveredService? { entries[id]?.reported }

    var services: [DiscoveredService] { entries.values.compactMap(\.reported).sorted { $0.id < $1.id } }

    private func switchResolvers(of id: ServiceID, _ entry: inout Entry, interface: InterfaceIndex,
                                 to sighting: Sighting?) -> [Effect] {
        var effects: [Effect] = []
        if let old = entry.resolving[interface] {
            for family in AddressFamily.allCases {
                let key = ResolverKey(id: id, sighting: old, family: family)
                entry.failed.remove(key)
                effects.append(.stopResolver(key))
            }
        }
        entry.resolving[interface] = sighting
        entry.idle.remove(interface)
        if let sighting {
            effects += AddressFamily.allCases.map { .startResolver(ResolverKey(id: id, sighting: sighting, family: $0)) }
        }
        return effects
    }

    /// Watches the host the newest resolution on `interface` names (nothing when none is left).
    private mutating func rewatch(_ id: ServiceID, _ entry: inout Entry, interface: InterfaceIndex) -> [Effect] {
        let newest = entry.resolutions.filter { $0.key.interface == interface }.values.max { $0.serial < $1.serial }
        let watch = newest.map { HostWatch(interface: interface, host: $0.resolution.host) }
        let old = entry.watching[interface]
        entry.watching[interface] = watch
        // Used again even when unchanged: after a reconnect the watch must start again.
        var effects = watch.map { hosts.use($0, by: id).map(Self.effect) } ?? []
        if let old, old != watch { effects += hosts.release(old, by: id).map(Self.effect) }
        return effects
    }

    private static func effect(_ effect: HostAddressTable.Effect) -> Effect {
        switch effect {
        case .startWatch(let watch): .startHostWatch(watch)
        case .stopWatch(let watch): .stopHostWatch(watch)
        }
    }

    private mutating func reportIfChanged(_ id: ServiceID) -> [Effect] {
        guard var entry = entries[id], let merged = merge(id, entry) else { return [] }
        guard merged != entry.reported else { return [] }
        let event: LocalDomainEvent = entry.reported == nil ? .added(merged) : .changed(merged)
        entry.reported = merged
        entries[id] = entry
        return [.emit(event)]
    }

    private func merge(_ id: ServiceID, _ entry: Entry) -> DiscoveredService? {
        guard let newest = entry.resolutions.values.max(by: { $0.serial < $1.serial })?.resolution else { return nil }
        let resolved = entry.resolutions.compactMap { key, value in
            value.resolution.address.map { LinkAddress(interface: key.interface, address: $0) }
        }
        let watched = entry.watching.flatMap { interface, watch in
            hosts.addresses(of: watch).map { LinkAddress(interface: interface, address: $0) }
        }
        let linkAddresses = Array(Set(resolved + watched)).sorted()
        let instance = ServiceInstance(
            name: id.name, type: id.type, domain: id.domain, host: newest.host, port: newest.port,
            txt: newest.txt, subtypes: entry.reported?.instance.subtypes ?? [],
            addresses: linkAddresses.map(\.address))
        return DiscoveredService(instance: instance, origin: entry.origin, linkAddresses: linkAddresses,
                                 droppedTXT: newest.droppedTXT)
    }
}
