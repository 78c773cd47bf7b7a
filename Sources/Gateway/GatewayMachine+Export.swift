import DNSSD
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous
import SIP

/// The export side: records put under their type keys, SIP bindings moved along, and the
/// island's directory entry.
extension GatewayMachine {
    /// The link's SIP user agents whose contacts all stopped answering OPTIONS (the whole set,
    /// as `LocalUAChecks` finds it): withdrawn from the DHT, and put again once they answer.
    public mutating func setNotAnswering(_ services: Set<ServiceID>) -> [Effect] {
        exportEffects(export.setNotAnswering(services))
    }

    mutating func exportEffects(_ planned: [ExportEffect]) -> [Effect] {
        var effects: [Effect] = []
        var typesChanged = false
        for effect in planned {
            switch effect {
            case .put(let record, let new):
                let key = RecordKeys.type(record.type, network: settings.network)
                let valueID = RecordKeys.valueID(of: record.name, type: record.type)
                let payload = ServiceRecordCodec.encode(record)
                effects.append(.put(key, valueID: valueID, payload: payload))
                effects += bindSIP(SIPBinding.addressOfRecord(of: record), valueID: valueID, payload: payload)
                effects.append(.fact(.exported(record, under: key, new: new)))
                typesChanged = true
            case .remove(let id):
                let valueID = RecordKeys.valueID(of: id.name, type: id.type)
                effects.append(.remove(RecordKeys.type(id.type, network: settings.network), valueID: valueID))
                effects += bindSIP(nil, valueID: valueID, payload: [])
                effects.append(.fact(.exportWithdrawn(id)))
                typesChanged = true
            case .skipped(let id, let skip):
                effects.append(.fact(.exportSkipped(id, skip)))
            }
        }
        if typesChanged, export.isActive { effects += publishDirectory() }
        return effects
    }

    /// Moves an exported UA's `sip/<AoR>` binding along with its record: put under the AoR it
    /// announces now, removed from the one it announced before (a TXT change can move it).
    mutating func bindSIP(_ addressOfRecord: SIPAddressOfRecord?, valueID: UInt64, payload: [UInt8]) -> [Effect] {
        var effects: [Effect] = []
        let previous = sipBindings[valueID]
        if let previous, previous != addressOfRecord {
            effects.append(.remove(RecordKeys.sip(previous, network: settings.network), valueID: valueID))
        }
        sipBindings[valueID] = addressOfRecord
        if let addressOfRecord {
            effects.append(.put(RecordKeys.sip(addressOfRecord, network: settings.network), valueID: valueID, payload: payload))
        }
        return effects
    }

    /// This island's directory value: its name, the types it exports and where its relay listens.
    mutating func publishDirectory() -> [Effect] {
        guard export.isActive, let island else { return [] }
        let entry = IslandDirectoryEntry(island: island, name: islandName, leader: settings.id,
                                         types: Array(Set(export.exported.keys.map(\.type))).sorted(),
                                         services: export.exported.count, term: election.term,
                                         relay: settings.relayOffer?.endpoints ?? [])
        guard entry != publishedDirectory else { return [] }
        publishedDirectory = entry
        return [.put(RecordKeys.directory(network: settings.network), valueID: 0, payload: IslandDirectoryCodec.encode(entry))]
    }
}
