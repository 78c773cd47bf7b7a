import Primitives

/// A leader's request that another leader dial its relay (issue 14, leaders behind NAT).
/// A leader whose dials to an exporting leader's relay all fail puts one under
/// `RecordKeys.relayDial(<that leader>)`; the value's owner is the asker (the DHT verifies
/// it), and the payload says where to dial it. The leader it names dials out (a reverse
/// tunnel) and serves its streams over that connection.
///
///     "z2zR" | version u8 = 1 | a relay offer as records carry it (only its endpoints count)
public enum RelayDialRequest {
    public static let magic: [UInt8] = Array("z2zR".utf8)
    public static let version: UInt8 = 1

    public static func encode(_ endpoints: [Endpoint]) -> [UInt8] {
        magic + [version] + ServiceRecordCodec.offerBytes(RelayOffer(endpoints: endpoints, lanPrefixes: [], lanRouted: false))
    }

    /// Where the asking leader's relay listens; a request that does not decode is refused with why.
    public static func decode(_ bytes: [UInt8]) throws(ServiceRecordRejection) -> [Endpoint] {
        var reader = ByteReader<ServiceRecordRejection>(bytes)
        guard try reader.take(4) == magic else { throw .badMagic }
        let version = try reader.u8()
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let offer = try ServiceRecordCodec.offer(&reader)
        try reader.expectEnd()
        return offer.endpoints
    }
}
