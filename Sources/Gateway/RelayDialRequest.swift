import Primitives

/// A leader's request that another leader dial a relay (issue 14, leaders behind NAT).
/// A leader whose dials to an exporting leader's relay all fail puts one under
/// `RecordKeys.relayDial(<that leader>)`: dial `target` at `endpoints` — itself (a reverse
/// tunnel straight back), or a reachable leader both can use as a circuit relay. The value's
/// owner is the asker (the DHT verifies it); its value id is the target's
/// (`valueID(of:)`), so one asker holds one request per target.
///
///     "z2zR" | version u8 = 1 | target node id (32 bytes) | a relay offer as records carry it
///     (only its endpoints count)
public struct RelayDialRequest: Hashable, Sendable {
    public static let magic: [UInt8] = Array("z2zR".utf8)
    public static let version: UInt8 = 1

    /// The leader to dial; its relay's host key must be this identity.
    public var target: NodeID
    public var endpoints: [Endpoint]

    public init(target: NodeID, endpoints: [Endpoint]) {
        self.target = target
        self.endpoints = endpoints
    }

    /// The value id a request for `target` is put under.
    public static func valueID(of target: NodeID) -> UInt64 {
        target.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    public var encoded: [UInt8] {
        Self.magic + [Self.version] + target.bytes
            + ServiceRecordCodec.offerBytes(RelayOffer(endpoints: endpoints, lanPrefixes: [], lanRouted: false))
    }

    /// Reads a request; one that does not decode is refused with why.
    public init(decoding bytes: [UInt8]) throws(ServiceRecordRejection) {
        var reader = ByteReader<ServiceRecordRejection>(bytes)
        guard try reader.take(4) == Self.magic else { throw .badMagic }
        let version = try reader.u8()
        guard version == Self.version else { throw .unsupportedVersion(version) }
        target = try reader.id()
        endpoints = try ServiceRecordCodec.offer(&reader).endpoints
        try reader.expectEnd()
    }
}
