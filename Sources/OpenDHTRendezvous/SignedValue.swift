import Kademlia
import Primitives

/// The bytes z2z stores as an OpenDHT value: one of our own signed records, framed as the
/// native wire format's `store` message (header with the network id, then the record).
/// OpenDHT carries them as opaque data; whoever reads them checks them here, so a value is
/// trusted for its Ed25519 signature and owner binding, exactly as in the native engine,
/// and never for where OpenDHT got it.
///
/// Admission: with a network key the frame carries the same HMAC tag as a native DHT
/// datagram (`NetworkKey`, `WireCodec`), and a value without a valid tag is dropped before
/// its record is read. OpenDHT nodes still carry such values (they know nothing of our key),
/// but no gateway of the network takes a record from a writer without the key.
enum SignedValue {
    /// Why a value read from OpenDHT was dropped. `reason` is the log and metric label.
    enum Rejection: Error, Hashable, Sendable {
        /// Not a frame of our wire format (someone else's value under the same hash, or garbage).
        case malformed(WireRejection)
        /// A frame of our format, but not a record.
        case notARecord
        /// A record of another z2z network that happens to share the OpenDHT network id.
        case otherNetwork
        /// A record of another key stored under this key's hash.
        case otherKey
        /// The owner binding or the signature does not hold.
        case forged(RecordRejection)

        var reason: String {
            switch self {
            case .malformed(let wire): "malformed_\(wire.reason)"
            case .notARecord: "not_a_record"
            case .otherNetwork: "other_network"
            case .otherKey: "other_key"
            case .forged: "forged"
            }
        }
    }

    static func encode(_ record: Record, network: NetworkID, key networkKey: NetworkKey? = nil) -> [UInt8] {
        let header = MessageHeader(network: network, sender: record.owner, transaction: 0)
        return WireCodec(key: networkKey).encode(Message(header: header, body: .store(RecordCopy(record: record, remaining: record.ttl))))
    }

    /// The record in `bytes`, if it is one of `network`'s (tagged with `networkKey` when one
    /// is given), under `key`, and authentic.
    static func decode(_ bytes: [UInt8], network: NetworkID, key: RecordKey, networkKey: NetworkKey? = nil) throws(Rejection) -> Record {
        let message: Message
        do { message = try WireCodec(key: networkKey).decode(bytes) } catch { throw .malformed(error) }
        guard case .store(let copy) = message.body else { throw .notARecord }
        guard message.header.network == network else { throw .otherNetwork }
        guard copy.record.key == key else { throw .otherKey }
        if let rejection = Ed25519Verifier().check(copy.record) { throw .forged(rejection) }
        return copy.record
    }
}
