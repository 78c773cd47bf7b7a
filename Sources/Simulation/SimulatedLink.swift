import Primitives
import DNSSD
import LocalDomain

/// One island's link in the simulator, as its hosts' mDNS responders see it: the twin of
/// `AvahiDomain` on a real LAN (and of `MemoryDomain` in unit tests). Devices and gateways
/// publish services on it; each gateway sees every service as a `LocalDomainEvent`, its
/// own publications flagged `[.local, .ourOwn]` as Avahi flags them, everyone else's with
/// no flags (another host's).
///
/// Two gateways may hold the same name for a moment (a new leader's import before the old
/// leader's withdrawal arrives): the link shows the newest publication, and the one beneath
/// shows again when the newest goes, as a responder's cache would.
struct SimulatedLink {
    struct Entry: Hashable {
        var service: ServiceInstance
        /// The gateway that published it; nil for a device.
        var publisher: Int?
    }

    /// What changed on the link, to be told to every gateway there.
    enum Change {
        case shown(Entry, isNew: Bool)
        case gone(ServiceID)
    }

    /// By service id: the newest publication of that id (what hosts see).
    private(set) var visibleEntries: [ServiceID: Entry] = [:]
    /// Older publications of an id still there beneath the visible one, oldest first (rare:
    /// one array per id would cost an allocation for every service on every link).
    private var beneath: [ServiceID: [Entry]] = [:]

    /// What hosts see: the newest publication of each id.
    var visible: [Entry] { Array(visibleEntries.values) }

    mutating func announce(_ service: ServiceInstance, by publisher: Int?) -> Change {
        let id = service.id
        let entry = Entry(service: service, publisher: publisher)
        guard let shown = visibleEntries[id] else {
            visibleEntries[id] = entry
            return .shown(entry, isNew: true)
        }
        if shown.publisher != publisher {
            beneath[id, default: []].removeAll { $0.publisher == publisher }
            beneath[id, default: []].append(shown)
        }
        visibleEntries[id] = entry
        return .shown(entry, isNew: false)
    }

    /// Withdraws `publisher`'s publication of `id`; nil when that changes nothing visible.
    mutating func retract(_ id: ServiceID, by publisher: Int?) -> Change? {
        guard let shown = visibleEntries[id] else { return nil }
        guard shown.publisher == publisher else {
            beneath[id]?.removeAll { $0.publisher == publisher }
            if beneath[id]?.isEmpty == true { beneath[id] = nil }
            return nil
        }
        guard let next = beneath[id]?.popLast() else {
            visibleEntries[id] = nil
            return .gone(id)
        }
        if beneath[id]?.isEmpty == true { beneath[id] = nil }
        visibleEntries[id] = next
        return .shown(next, isNew: false)
    }

    /// Every publication of `publisher` (a gateway that stopped: its responder client went
    /// away and Avahi withdrew its entry groups).
    func publications(of publisher: Int) -> [ServiceID] {
        let visible = visibleEntries.compactMap { $0.value.publisher == publisher ? $0.key : nil }
        let hidden = beneath.compactMap { id, stack in stack.contains { $0.publisher == publisher } ? id : nil }
        return Array(Set(visible + hidden)).sorted()
    }

    /// The event gateway `viewer` reads for a change.
    static func event(_ change: Change, for viewer: Int) -> LocalDomainEvent {
        switch change {
        case .shown(let entry, let isNew):
            let service = discovered(entry, by: viewer)
            return isNew ? .added(service) : .changed(service)
        case .gone(let id):
            return .removed(id)
        }
    }

    static func discovered(_ entry: Entry, by viewer: Int) -> DiscoveredService {
        let origin: Origin = entry.publisher == viewer ? [.local, .ourOwn] : []
        return DiscoveredService(instance: entry.service, origin: origin,
                                 linkAddresses: entry.service.addresses.map { LinkAddress(interface: 2, address: $0) })
    }
}
