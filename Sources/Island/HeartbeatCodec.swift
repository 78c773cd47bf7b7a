import Primitives

/// Why a heartbeat frame was refused. `reason` is the metric label.
public enum HeartbeatRejection: ByteReadRejection, Hashable, Sendable {
    case badMagic
    case unsupportedVersion(UInt8)
    /// Too short, or bytes left over (`ByteReadError`).
    case read(ByteReadError)
    case unknownRole(UInt8)
    case unknownFlags(UInt8)
    /// Admission (`NetworkKey`): no tag on a keyed network, a tag that does not verify, or
    /// a tag reaching a gateway in open mode.
    case missingTag
    case badTag
    case unexpectedTag
    /// Authentic, but not newer than a heartbeat already taken from its sender: a copy
    /// replayed (`ReplayGuard`). Never thrown by the codec, which keeps no state.
    case replayed

    /// The byte reader's shared failures.
    public init(_ error: ByteReadError) { self = .read(error) }

    public var reason: String {
        switch self {
        case .badMagic: "bad_magic"
        case .unsupportedVersion: "unsupported_version"
        case .read(let error): error.reason
        case .unknownRole: "unknown_role"
        case .unknownFlags: "unknown_flags"
        case .missingTag: "missing_tag"
        case .badTag: "bad_tag"
        case .unexpectedTag: "unexpected_tag"
        case .replayed: "replayed"
        }
    }
}

/// The wire form of `Heartbeat` (big-endian), strict and total:
///
///     "z2zH" | version u8 = 2 | network u64 | sender 32 | priority u8 | role u8 |
///     flags u8 (bit 0: island follows, bit 1: leader follows, bit 2: tag follows) |
///     [island u64] | [leader 32] | term u64 | incarnation u64 | sequence u64 | port u16 | [tag 16]
///
/// The magic keeps heartbeats apart from DHT frames on the same UDP socket (those start
/// with their version byte, never 'z'). With a `NetworkKey` every heartbeat carries the
/// tag (`NetworkKey.tag(_:for: .heartbeat)` over the bytes before it) and one without a
/// valid tag is refused, so an outsider on the link cannot win or disturb an election; in
/// open mode a tagged heartbeat is refused instead (as `WireCodec` does for DHT frames).
///
/// Version 2 put the sender's incarnation and a 64-bit sequence under the tag, so a
/// receiver can refuse a copy of an older heartbeat (`ReplayGuard`). Version 1 (no
/// incarnation, a 32-bit sequence) is refused as `unsupported_version`: its heartbeats
/// carry nothing a receiver could order them by, so taking them would keep every one ever
/// captured replayable. Gateways of one island are upgraded together; until they are, the
/// two versions do not hear each other and each side elects its own leader, as after a
/// partition (the claim rule leaves one once all speak version 2).
public enum HeartbeatCodec {
    public static let magic: [UInt8] = Array("z2zH".utf8)
    public static let version: UInt8 = 2
    public static let maximumSize = 4 + 1 + 8 + 32 + 3 + 8 + 32 + 8 + 8 + 8 + 2 + NetworkKey.tagBytes
    /// Where the flags byte sits (everything before it has a fixed size).
    static let flagsOffset = 4 + 1 + 8 + 32 + 1 + 1
    static let taggedFlag: UInt8 = 4

    private static let roles: [Role] = [.candidate, .follower, .leader]

    /// True when a datagram is (meant to be) a heartbeat: it starts with the magic.
    public static func isHeartbeat(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.starts(with: magic)
    }

    public static func encode(_ beat: Heartbeat, key: NetworkKey? = nil) -> [UInt8] {
        var out = magic
        out.reserveCapacity(maximumSize)
        out.append(version)
        append(beat.network.rawValue, to: &out)
        out += beat.sender.bytes
        out.append(beat.priority)
        out.append(UInt8(roles.firstIndex(of: beat.role) ?? 0))
        out.append((beat.island == nil ? 0 : 1) | (beat.leader == nil ? 0 : 2) | (key == nil ? 0 : taggedFlag))
        if let island = beat.island { append(island.rawValue, to: &out) }
        if let leader = beat.leader { out += leader.bytes }
        append(beat.term, to: &out)
        append(beat.incarnation, to: &out)
        append(beat.sequence, to: &out)
        append(UInt64(beat.port), bytes: 2, to: &out)
        if let key { out += key.tag(out, for: .heartbeat) }
        return out
    }

    public static func decode(_ bytes: [UInt8], key: NetworkKey? = nil) throws(HeartbeatRejection) -> Heartbeat {
        guard bytes.starts(with: magic) else { throw .badMagic }
        guard bytes.count > flagsOffset else { throw .read(.truncated) }
        let tagged = bytes[flagsOffset] & taggedFlag != 0
        var body = bytes
        if let key {
            guard tagged else { throw .missingTag }
            guard key.verify(bytes, for: .heartbeat) else { throw .badTag }
            body.removeLast(NetworkKey.tagBytes)
        } else if tagged {
            throw .unexpectedTag
        }
        var reader = ByteReader<HeartbeatRejection>(body)
        guard try reader.take(4) == magic else { throw .badMagic }
        let version = try reader.u8()
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let network = NetworkID(rawValue: try reader.u64())
        let sender = try reader.id()
        let priority = try reader.u8()
        let roleByte = try reader.u8()
        guard Int(roleByte) < roles.count else { throw .unknownRole(roleByte) }
        let flags = try reader.u8()
        guard flags & ~(3 | taggedFlag) == 0 else { throw .unknownFlags(flags) }
        let island = flags & 1 != 0 ? IslandID(rawValue: try reader.u64()) : nil
        let leader = flags & 2 != 0 ? try reader.id() : nil
        let term = try reader.u64()
        let incarnation = try reader.u64()
        let sequence = try reader.u64()
        let port = try reader.u16()
        try reader.expectEnd()
        return Heartbeat(network: network, sender: sender, priority: priority, role: roles[Int(roleByte)],
                         island: island, leader: leader, term: term, incarnation: incarnation, sequence: sequence, port: port)
    }

    private static func append(_ value: UInt64, bytes: Int = 8, to out: inout [UInt8]) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
