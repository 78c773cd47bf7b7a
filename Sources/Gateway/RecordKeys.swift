import Crypto
import DNSSD
import Island
import Primitives
import SIP

/// Where the gateway keeps things in the rendezvous (DHT). Keys are SHA-256 over
/// (network id, namespace, name) through `RecordKey.make`:
///
/// - `type/<service type>`: every exported instance of that type, one value per instance
///   per island (value id: `RecordKeys.valueID(of:)`), so an importer subscribes once per type.
/// - `directory`: one value per island (value id 0): its name and the types it exports —
///   how a leader learns which types exist anywhere, and what `z2z islands` lists.
/// - `sip/<address of record>`: a SIP UA's binding, the same record as under its type key
///   (same value id), so a redirect needs one lookup (`SIPBinding`).
/// - `relay-dial/<node id>`: leaders that cannot dial that leader's relay (it is behind NAT)
///   ask it to dial them instead, one value per asking leader (`RelayDialRequest`).
///
/// Deviation from DESIGN.md: the design's separate `island/<id>` and `types` keys are one
/// `directory` key here — a subscriber learns both from one subscription.
public enum RecordKeys {
    public static func type(_ type: ServiceType, network: NetworkID) -> RecordKey {
        RecordKey.make(network: network, namespace: "type", name: type.description)
    }

    public static func directory(network: NetworkID) -> RecordKey {
        RecordKey.make(network: network, namespace: "directory", name: "")
    }

    public static func sip(_ addressOfRecord: SIPAddressOfRecord, network: NetworkID) -> RecordKey {
        RecordKey.make(network: network, namespace: SIPAddressOfRecord.dhtNamespace, name: addressOfRecord.description)
    }

    public static func relayDial(_ node: NodeID, network: NetworkID) -> RecordKey {
        RecordKey.make(network: network, namespace: "relay-dial", name: node.hex)
    }

    /// One instance's value id under its type key: stable across restarts and leader
    /// changes, so a new leader replaces the old leader's value instead of adding one.
    public static func valueID(of name: InstanceName, type: ServiceType) -> UInt64 {
        let digest = SHA256.hash(data: Array("\(type)\u{0}\(name.value)".utf8))
        return digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
