import DNSSD
import Island
import Primitives

/// What an island's leader says about its island under the `directory` key: its name, who
/// leads it (with the election term it leads in) and the types it exports. Leaders subscribe
/// to the directory to learn which types exist anywhere and who leads each island now;
/// `z2z islands` lists it.
///
/// A leader killed with SIGKILL leaves its entry behind until it expires, so an island can
/// have two entries for a while: the one with the higher term names the current leader.
public struct IslandDirectoryEntry: Hashable, Sendable {
    public static let maximumTypes = 256

    public var island: IslandID
    public var name: String
    public var leader: NodeID
    public var types: [ServiceType]
    public var services: Int
    /// The election term of the leader (`Election.term`); 0 in entries of version 1.
    public var term: UInt64

    public init(island: IslandID, name: String, leader: NodeID, types: [ServiceType], services: Int, term: UInt64 = 0) {
        self.island = island
        self.name = name
        self.leader = leader
        self.types = types
        self.services = services
        self.term = term
    }
}

/// Why a directory payload was refused.
public enum IslandDirectoryRejection: ByteReadRejection, Hashable, Sendable {
    case badMagic, unsupportedVersion(UInt8), read(ByteReadError), tooManyTypes(Int), invalidType(String), invalidName

    /// The byte reader's shared failures.
    public init(_ error: ByteReadError) { self = .read(error) }

    public var reason: String {
        switch self {
        case .badMagic: "bad_magic"
        case .unsupportedVersion: "unsupported_version"
        case .read(let error): error.reason
        case .tooManyTypes: "too_many_types"
        case .invalidType: "invalid_type"
        case .invalidName: "invalid_name"
        }
    }
}

/// `"z2zD" | version u8 = 2 | island u64 | name len u8, UTF-8 | leader 32 | services u32 |
/// type count u16, (len u8, text)* | term u64` — strict and total. Version 1 (no term, read
/// as term 0) is still read, so entries of older gateways keep working.
public enum IslandDirectoryCodec {
    public static let magic: [UInt8] = Array("z2zD".utf8)

    public static func encode(_ entry: IslandDirectoryEntry) -> [UInt8] {
        var out = magic + [2]
        out += (0..<8).map { UInt8(truncatingIfNeeded: entry.island.rawValue >> UInt64(56 - 8 * $0)) }
        let name = Array(entry.name.utf8.prefix(63))
        out.append(UInt8(name.count))
        out += name
        out += entry.leader.bytes
        let services = UInt32(clamping: entry.services)
        out += (0..<4).map { UInt8(truncatingIfNeeded: services >> UInt32(24 - 8 * $0)) }
        let types = entry.types.prefix(IslandDirectoryEntry.maximumTypes)
        out += [UInt8(types.count >> 8), UInt8(types.count & 0xff)]
        for type in types {
            let text = Array(type.description.utf8)
            out.append(UInt8(text.count))
            out += text
        }
        out += (0..<8).map { UInt8(truncatingIfNeeded: entry.term >> UInt64(56 - 8 * $0)) }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(IslandDirectoryRejection) -> IslandDirectoryEntry {
        var reader = ByteReader<IslandDirectoryRejection>(bytes)
        guard try reader.take(4) == magic else { throw .badMagic }
        let version = try reader.u8()
        guard version == 1 || version == 2 else { throw .unsupportedVersion(version) }
        let island = IslandID(rawValue: try reader.u64())
        guard let name = String(validating: try reader.short(), as: UTF8.self) else { throw .invalidName }
        let leader = try reader.id()
        let services = Int(try reader.u32())
        let count = Int(try reader.u16())
        guard count <= IslandDirectoryEntry.maximumTypes else { throw .tooManyTypes(count) }
        var types: [ServiceType] = []
        for _ in 0..<count {
            let text = String(decoding: try reader.short(), as: UTF8.self)
            guard let type = try? ServiceType(text) else { throw .invalidType(text) }
            types.append(type)
        }
        let term = version >= 2 ? try reader.u64() : 0
        try reader.expectEnd()
        return IslandDirectoryEntry(island: island, name: name, leader: leader, types: types, services: services, term: term)
    }
}
