import DNSSD
import LocalDomain

/// One host's address records watched on one interface: the key of a pair of record
/// browsers (A and AAAA) on that host name.
struct HostWatch: Hashable, Comparable, Sendable {
    var interface: InterfaceIndex
    /// The host name in canonical (lowercase) form: `Printer.local` and `printer.local` are one host.
    var host: String

    init(interface: InterfaceIndex, host: HostName) {
        self.interface = interface
        self.host = host.canonical
    }

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.interface, lhs.host) < (rhs.interface, rhs.host) }
}

/// Every address record of the hosts that resolved services run on, per interface.
///
/// Avahi's service resolver reports one address per (interface, protocol): a host with a
/// routable address and a 169.254 alias may resolve to the alias only, and a host with
/// several IPv6 addresses to one of them. So the host's A and AAAA records are browsed
/// as well (one watch per host and interface, shared by the services on that host), and
/// their union is the host's addresses.
///
/// Pure bookkeeping: `BrowseTable` says which services use which watch; the table says
/// when a watch must start or stop, and what it has seen.
/// - An address counts while it is seen over at least one protocol (a dual-stack link
///   carries the same record in IPv4 and IPv6 packets, and each goes on its own).
/// - At most `maximumAddresses` per watch: a host announcing more is cut off there (the
///   first ones seen stay), so a misbehaving responder cannot grow the table without bound.
/// - A watch stops with its last user, and forgets what it saw.
/// - After the responder connection is lost, what the watches saw is kept as stale (as
///   `BrowseTable` keeps its services), so a restart of avahi-daemon does not make hosts
///   lose addresses for a moment; `sweepStale` drops the addresses not seen again.
struct HostAddressTable {
    /// The same bound as an exported record's (`ServiceRecord.maximumAddresses` in Gateway).
    static let maximumAddresses = 16

    enum Effect: Hashable, Sendable {
        case startWatch(HostWatch)
        case stopWatch(HostWatch)
    }

    private var users: [HostWatch: Set<ServiceID>] = [:]
    /// Per watch, each address with the protocols it was seen over.
    private var seen: [HostWatch: [IPAddress: Set<AddressFamily>]] = [:]
    /// Addresses seen before the connection was lost and not seen again since.
    private var stale: [HostWatch: Set<IPAddress>] = [:]

    var count: Int { users.count }

    /// `id` uses `watch` now: the first user starts it.
    mutating func use(_ watch: HostWatch, by id: ServiceID) -> [Effect] {
        let first = users[watch] == nil
        users[watch, default: []].insert(id)
        return first ? [.startWatch(watch)] : []
    }

    /// `id` no longer uses `watch`: the last user stops it.
    mutating func release(_ watch: HostWatch, by id: ServiceID) -> [Effect] {
        guard users[watch]?.remove(id) != nil, users[watch]?.isEmpty == true else { return [] }
        users[watch] = nil
        seen[watch] = nil
        stale[watch] = nil
        return [.stopWatch(watch)]
    }

    /// A record browser of `watch` reported `address` over `family`. Returns the services
    /// whose addresses changed (none when it was known already or the watch is full).
    mutating func added(_ watch: HostWatch, _ address: IPAddress, over family: AddressFamily) -> Set<ServiceID> {
        guard let affected = users[watch] else { return [] }
        var addresses = seen[watch] ?? [:]
        let wasStale = stale[watch]?.remove(address) != nil
        if addresses[address] == nil, addresses.count + (stale[watch]?.count ?? 0) >= Self.maximumAddresses { return [] }
        let isNew = addresses[address, default: []].insert(family).inserted && addresses[address]?.count == 1
        seen[watch] = addresses
        return isNew && !wasStale ? affected : []
    }

    /// A record browser of `watch` reported `address` gone over `family`.
    mutating func removed(_ watch: HostWatch, _ address: IPAddress, over family: AddressFamily) -> Set<ServiceID> {
        guard let affected = users[watch], seen[watch]?[address]?.remove(family) != nil else { return [] }
        guard seen[watch]?[address]?.isEmpty == true else { return [] }
        seen[watch]?[address] = nil
        return affected
    }

    /// The watches on `host` (canonical form), sorted.
    func watches(onHost host: String) -> [HostWatch] { users.keys.filter { $0.host == host }.sorted() }

    /// The services that use `watch`.
    func users(of watch: HostWatch) -> Set<ServiceID> { users[watch] ?? [] }

    /// Whether `watch` holds `maximumAddresses` (a further one would be cut off).
    func isFull(_ watch: HostWatch) -> Bool { (seen[watch]?.count ?? 0) + (stale[watch]?.count ?? 0) >= Self.maximumAddresses }

    /// `watch`'s record browsers start again after a pause: what they saw becomes stale, so
    /// it stands until they settle and goes then unless they see it again.
    mutating func restarting(_ watch: HostWatch) {
        guard users[watch] != nil else { return }
        stale[watch, default: []].formUnion((seen[watch] ?? [:]).keys)
        seen[watch] = [:]
    }

    /// `watch`'s record browsers said "all for now": its stale addresses not seen again are
    /// dropped. Returns the services whose addresses changed.
    mutating func settled(_ watch: HostWatch) -> Set<ServiceID> {
        guard let gone = stale.removeValue(forKey: watch), !gone.isEmpty else { return [] }
        return users[watch] ?? []
    }

    /// What `watch` has seen, sorted.
    func addresses(of watch: HostWatch) -> [IPAddress] {
        Set((seen[watch] ?? [:]).keys).union(stale[watch] ?? []).sorted()
    }

    /// The responder connection is gone, and the record browsers with it: what they saw
    /// becomes stale.
    mutating func disconnected() {
        for (watch, addresses) in seen { stale[watch, default: []].formUnion(addresses.keys) }
        users = [:]
        seen = [:]
    }

    /// Drops the stale addresses not seen again since `disconnected()`; returns the
    /// services whose addresses changed.
    mutating func sweepStale() -> Set<ServiceID> {
        var affected: Set<ServiceID> = []
        for (watch, addresses) in stale where !addresses.isEmpty { affected.formUnion(users[watch] ?? []) }
        stale = [:]
        return affected
    }
}
