import DNSSD
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous
import SIP

/// The import side: the directory of islands, subscriptions to the types they export, and
/// remote records into the import planner.
extension GatewayMachine {
    mutating func rendezvousChanged(_ change: RendezvousChange, now: Instant) -> [Effect] {
        guard export.isActive else { return [] }
        let directoryKey = RecordKeys.directory(network: settings.network)
        switch change {
        case .upserted(let value) where value.key == directoryKey:
            guard let entry = try? IslandDirectoryCodec.decode(value.payload) else {
                return [.fact(.rejected(reason: "directory_malformed", detail: "owner \(value.owner)"))]
            }
            arrivals += 1
            directory[value.slot] = entry
            directoryArrivals[value.slot] = arrivals
            return reconcileSubscriptions() + importEffects(imports.setLeaders(islandLeaders, now: now))
        case .removed(let key, let slot) where key == directoryKey:
            directory[slot] = nil
            directoryArrivals[slot] = nil
            return reconcileSubscriptions() + importEffects(imports.setLeaders(islandLeaders, now: now))
        case .upserted(let value):
            do {
                let record = try ServiceRecordCodec.decode(value.payload)
                guard value.key == RecordKeys.type(record.type, network: settings.network) else {
                    return [.fact(.rejected(reason: "record_under_wrong_key", detail: "\(record.id)"))]
                }
                // A sibling's record is kept (the planner never publishes it) for when it stops being one.
                return importEffects(imports.apply(record, from: value.slot))
            } catch {
                return [.fact(.rejected(reason: "record_\(error.reason)", detail: "owner \(value.owner)"))]
            }
        case .removed(_, let slot):
            return importEffects(imports.remove(slot))
        }
    }

    /// Subscribe to every type another island exports that the policy may let in; a type no
    /// longer followed takes its imports with it (`ImportPlanner.forget(type:)`).
    mutating func reconcileSubscriptions() -> [Effect] {
        guard export.isActive else { return [] }
        var wanted = Set<ServiceType>()
        for entry in directory.values where entry.island != island && !settings.siblingIslands.contains(entry.island) {
            for type in entry.types where imports.mayImport(type, from: entry.island, name: entry.name) {
                wanted.insert(type)
            }
        }
        let added = wanted.subtracting(subscribedTypes).sorted()
        let dropped = subscribedTypes.subtracting(wanted).sorted()
        subscribedTypes = wanted
        return added.map { .subscribe(RecordKeys.type($0, network: settings.network)) }
            + dropped.flatMap { [.unsubscribe(RecordKeys.type($0, network: settings.network))] + importEffects(imports.forget(type: $0)) }
    }

    /// Mutating although it changes nothing: its calls take the planner's mutation as their
    /// argument (`importEffects(imports.apply(...))`), and a non-mutating method's `self` is
    /// loaded before that argument runs — a copy of the whole machine, after which the
    /// planner's tables are copied on write: a copy of every import per import.
    mutating func importEffects(_ planned: [ImportEffect]) -> [Effect] {
        planned.flatMap { effect -> [Effect] in
            switch effect {
            case .publish(let key, let imported): [.publish(key, imported.publication), .fact(.imported(key, imported, new: true))]
            case .update(let key, let imported): [.update(key, imported.publication), .fact(.imported(key, imported, new: false))]
            case .withdraw(let key, let imported): [.withdraw(key), .fact(.importWithdrawn(key, imported))]
            case .held(let key, let hold): [.fact(.importHeld(key, hold))]
            case .relay(let relay): [.relay(relay)]
            }
        }
    }
}
