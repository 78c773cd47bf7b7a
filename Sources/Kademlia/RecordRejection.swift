/// Why a node refused to store a record. `reason` is the metric label and log word.
public enum RecordRejection: UInt8, Error, Hashable, Sendable, CaseIterable {
    /// The store holds the same or a newer sequence number in this slot (or a different
    /// record with the same sequence number).
    case staleSequence = 1
    /// The signature does not verify against the record's public key.
    case badSignature = 2
    /// `owner` is not the hash of the record's public key.
    case wrongOwner = 3
    /// The copy has no lifetime left.
    case expired = 4
    /// The payload exceeds `Limits.maxPayloadBytes`.
    case tooLarge = 5
    /// The key already holds `Limits.maxValuesPerKey` values.
    case tooManyValuesPerKey = 6
    /// The store reached `Limits.maxStoredBytes`.
    case storeFull = 7
    /// The signed lifetime exceeds `Limits.maxTTL`.
    case ttlTooLong = 8
    /// The owner already holds `Limits.maxValuesPerOwnerPerKey` values under the key.
    case tooManyValuesPerOwner = 9
    /// The owner (an island's leader) already holds `Limits.maxValuesPerOwner` values on
    /// this node over all keys.
    case tooManyValuesFromOwner = 10
    /// Issued too long ago: `issuedAt + ttl` (plus `Record.clockSkew`) is past on this
    /// node's clock. A copy kept back and stored again (a replay) after its version ran out.
    case stale = 11

    public var reason: String {
        switch self {
        case .staleSequence: "stale_sequence"
        case .badSignature: "bad_signature"
        case .wrongOwner: "wrong_owner"
        case .expired: "expired"
        case .tooLarge: "too_large"
        case .tooManyValuesPerKey: "too_many_values_per_key"
        case .storeFull: "store_full"
        case .ttlTooLong: "ttl_too_long"
        case .tooManyValuesPerOwner: "too_many_values_per_owner"
        case .tooManyValuesFromOwner: "too_many_values_from_owner"
        case .stale: "stale"
        }
    }
}
