import DNSSD
import Island
import LocalDomain
import Rendezvous

/// What the import side asks the gateway to do with its local domain.
public enum ImportEffect: Hashable, Sendable {
    case publish(ImportKey, Publication)
    /// Same name and type; TXT, port, subtypes or host addresses changed.
    case update(ImportKey, Publication)
    case withdraw(ImportKey)
}

/// Decides what a leader publishes on its link for services of other islands. Pure: the
/// gateway feeds it rendezvous changes and local-domain events and carries out its effects.
///
/// - Each remote instance is published with its own name, type, subtypes, port and TXT,
///   on a synthesized host (`SynthesizedHost`) whose addresses are the remote host's.
/// - The leader sees every name on its link, so it picks a free name before it announces
///   (and announces without probing): the remote name when free, else the name with a
///   suffix naming the island ("Office Printer (island-b)"). Services that share a name on
///   different islands are never renamed on their own island — the import yields, also
///   when a local service with its name appears later.
/// - Values of this island, and instances the policy denies, are not imported. When two
///   owners hold a value for one instance (an old and a new leader of that island), the
///   newest one counts; the instance goes only when the last one goes.
public struct ImportPlanner: Sendable {
    /// Policy for the import direction: may this type from this island come in?
    public typealias Permission = @Sendable (ServiceType, IslandID, String) -> Bool

    public struct Imported: Hashable, Sendable {
        public var record: ServiceRecord
        public var publication: Publication
    }

    public private(set) var localIsland: IslandID?
    public private(set) var isActive = false
    /// Remote values by instance, then by the slot (owner, value id) that holds them.
    public private(set) var remote: [ImportKey: [ValueSlot: (record: ServiceRecord, serial: UInt64)]] = [:]
    /// What is published on the link now.
    public private(set) var imports: [ImportKey: Imported] = [:]
    /// Names on the link that are not ours, by type (canonical form).
    private var localNames: [ServiceType: [String: Int]] = [:]
    private var localServices: [ServiceID: String] = [:]
    private var slotIndex: [ValueSlot: ImportKey] = [:]
    private var serial: UInt64 = 0
    private var permission: Permission

    public init(permission: @escaping Permission) {
        self.permission = permission
    }

    // MARK: inputs

    public mutating func activate(localIsland: IslandID) -> [ImportEffect] {
        self.localIsland = localIsland
        isActive = true
        return reconcileAll()
    }

    /// No longer the leader: withdraw everything (the new leader publishes it).
    public mutating func deactivate() -> [ImportEffect] {
        isActive = false
        let withdrawals = imports.keys.sorted().map { ImportEffect.withdraw($0) }
        imports = [:]
        return withdrawals
    }

    public mutating func setPermission(_ permission: @escaping Permission) -> [ImportEffect] {
        self.permission = permission
        return reconcileAll()
    }

    /// A change under a subscribed type key. Payloads that are not valid service records
    /// are dropped by the caller before they get here.
    public mutating func apply(_ record: ServiceRecord, from slot: ValueSlot) -> [ImportEffect] {
        let key = record.id
        var effects: [ImportEffect] = []
        if let previous = slotIndex[slot], previous != key {
            // The slot now describes another instance (renamed at the source).
            remote[previous]?[slot] = nil
            if remote[previous]?.isEmpty == true { remote[previous] = nil }
            effects += reconcile(previous)
        }
        serial += 1
        slotIndex[slot] = key
        remote[key, default: [:]][slot] = (record, serial)
        return effects + reconcile(key)
    }

    public mutating func remove(_ slot: ValueSlot) -> [ImportEffect] {
        guard let key = slotIndex.removeValue(forKey: slot) else { return [] }
        remote[key]?[slot] = nil
        if remote[key]?.isEmpty == true { remote[key] = nil }
        return reconcile(key)
    }

    /// Local services decide which names are taken.
    public mutating func observe(_ event: LocalDomainEvent) -> [ImportEffect] {
        switch event {
        case .added(let service), .changed(let service):
            guard service.isPublishedByAHost else { return forgetLocal(service.id) }
            guard localServices[service.id] == nil else { return [] }
            let canonical = service.instance.name.canonical
            localServices[service.id] = canonical
            localNames[service.id.type, default: [:]][canonical, default: 0] += 1
            // An import holding this name yields to the local service.
            let clashing = imports.filter { $0.key.type == service.id.type && $0.value.publication.name.canonical == canonical }
            return clashing.keys.sorted().flatMap { key -> [ImportEffect] in
                imports[key] = nil
                return [.withdraw(key)] + reconcile(key)
            }
        case .removed(let id):
            return forgetLocal(id)
        case .connection, .ignored, .settled, .publication:
            return []
        }
    }

    /// A publication of ours ended up under another name (an mDNS collision after all).
    public mutating func renamed(_ key: ImportKey, to name: InstanceName) {
        imports[key]?.publication.name = name
    }

    // MARK: deciding

    private mutating func forgetLocal(_ id: ServiceID) -> [ImportEffect] {
        guard let canonical = localServices.removeValue(forKey: id) else { return [] }
        localNames[id.type]?[canonical, default: 1] -= 1
        if localNames[id.type]?[canonical] == 0 { localNames[id.type]?[canonical] = nil }
        return []
    }

    /// The newest value for an instance, if it may come in.
    private func wanted(_ key: ImportKey) -> ServiceRecord? {
        guard isActive, key.island != localIsland,
              let newest = remote[key]?.values.max(by: { $0.serial < $1.serial })?.record,
              permission(key.type, key.island, newest.islandName) else { return nil }
        return newest
    }

    private mutating func reconcileAll() -> [ImportEffect] {
        Set(remote.keys).union(imports.keys).sorted().flatMap { reconcile($0) }
    }

    private mutating func reconcile(_ key: ImportKey) -> [ImportEffect] {
        guard let record = wanted(key) else {
            return imports.removeValue(forKey: key) != nil ? [.withdraw(key)] : []
        }
        if var current = imports[key] {
            let publication = makePublication(record, name: current.publication.name)
            guard publication != current.publication else { return [] }
            current.record = record
            current.publication = publication
            imports[key] = current
            return [.update(key, publication)]
        }
        let publication = makePublication(record, name: freeName(for: record, excluding: key))
        imports[key] = Imported(record: record, publication: publication)
        return [.publish(key, publication)]
    }

    /// The remote name if nobody on the link uses it, else the island-suffixed alternatives.
    private func freeName(for record: ServiceRecord, excluding key: ImportKey) -> InstanceName {
        let taken = Set(localNames[record.type]?.keys.map { $0 } ?? [])
            .union(imports.filter { $0.key != key && $0.key.type == record.type }.map { $0.value.publication.name.canonical })
        var candidate = record.name
        var attempt = 0
        let rule = RenameRule.suffix(record.islandName.isEmpty ? String(record.island.description.prefix(8)) : record.islandName)
        while taken.contains(candidate.canonical), attempt < 1000 {
            attempt += 1
            candidate = rule.alternative(to: record.name, attempt: attempt)
        }
        return candidate
    }

    private func makePublication(_ record: ServiceRecord, name: InstanceName) -> Publication {
        let suffix = record.islandName.isEmpty ? String(record.island.description.prefix(8)) : record.islandName
        return Publication(
            name: name, type: record.type, subtypes: record.subtypes, port: record.port, txt: record.txt,
            host: .synthesized(SynthesizedHost.name(label: record.hostLabel, island: record.island), addresses: record.addresses),
            renameRule: .suffix(suffix), announcement: .immediate)
    }
}
