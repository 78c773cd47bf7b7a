import Crypto

/// Admission to a network: the pre-shared secret every gateway of the network holds, from
/// which the keys that authenticate its datagrams are derived. A DHT frame or an island
/// heartbeat without a valid tag is dropped before it is parsed further, so a node without
/// the secret can neither enter a routing table, nor be answered, nor store a record.
///
/// Derivation: HKDF-SHA256 over the secret, salt `z2z network key v1`, info naming the
/// purpose (`dht frame`, `island heartbeat`) and the network id, so one secret reused
/// under two network names or for two purposes yields unrelated keys. A tag is
/// HMAC-SHA256 over the whole datagram before it, truncated to 16 bytes (RFC 2104 §5).
///
/// What it does not do: a tag proves a sender holds the secret, not which gateway it is
/// (records are signed by their owner for that); and a captured datagram can be replayed
/// by an outsider. Replays gain little: a response must match an open transaction from
/// the same endpoint, records are signed and carry sequence numbers, heartbeats carry
/// terms and sequence numbers. Frames carry no timestamp because gateways' clocks are not
/// trusted to agree (islands may run without NTP).
public struct NetworkKey: DatagramAuthenticator {
    /// Shortest secret accepted: 128 bits if it is random; a generated key has 32 bytes.
    public static let minimumSecretBytes = 16
    public static let tagBytes = 16

    // Raw bytes rather than `SymmetricKey`, which is not `Sendable`.
    let frameKey: [UInt8]
    let heartbeatKey: [UInt8]

    /// The network's keys, or nil when the secret is shorter than `minimumSecretBytes`.
    public init?(secret: some Collection<UInt8>, network: NetworkID) {
        guard secret.count >= Self.minimumSecretBytes else { return nil }
        let material = SymmetricKey(data: Array(secret))
        func derive(_ purpose: String) -> [UInt8] {
            var info = Array(purpose.utf8)
            for shift in stride(from: 56, through: 0, by: -8) { info.append(UInt8(truncatingIfNeeded: network.rawValue >> UInt64(shift))) }
            return HKDF<SHA256>.deriveKey(inputKeyMaterial: material, salt: Array("z2z network key v1".utf8), info: info,
                                          outputByteCount: 32).withUnsafeBytes { Array($0) }
        }
        frameKey = derive("dht frame")
        heartbeatKey = derive("island heartbeat")
    }

    public var tagBytes: Int { Self.tagBytes }

    public func tag(_ bytes: ArraySlice<UInt8>, for purpose: DatagramPurpose) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: purpose == .frame ? frameKey : heartbeatKey))
        hmac.update(data: bytes)
        return Array(Array(hmac.finalize()).prefix(Self.tagBytes))
    }
}
