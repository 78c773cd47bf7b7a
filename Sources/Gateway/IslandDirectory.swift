import DNSSD
import Island
import Primitives

/// What an island's leader says about its island under the `directory` key: its name, who
/// leads it (with the election term it leads in), the types it exports and where its relay
/// listens. Leaders subscribe to the directory to learn which types exist anywhere and who
/// leads each island now; `z2z islands` lists it. The relay endpoints are there so that a
/// leader that exports nothing can still be a circuit relay for two islands behind NAT.
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
    /// The leader's relay endpoints (its `RelayOffer.endpoints`): empty when its relay is off,
    /// and in entries of versions 1 and 2.
    public var relay: [Endpoint]

    public init(island: IslandID, name: String, leader: NodeID, types: [ServiceType], services: Int, term: UInt64 = 0,
                relay: [Endpoint] = []) {
        self.island = island
        self.name = name
        self.leader = leader
        self.types = types
        self.services = services
        self.term = term
        self.relay = relay
    }
}

/// Why a directory payload was refused.
public enum IslandDirectoryRejection: ByteReadRejection, Hashable, Sendable {
    case badMagic, unsupportedVersion(UInt8), read(ByteReadError), tooManyTypes(Int), invalidType(String), invalidName
    /// The relay endpoints do not decode (as a service record's relay offer would not).
    case invalidRelay(ServiceRecordRejection)

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
        case .invalidRelay(let rejection): rejection.reason
        }
    }
}

/// `"z2zD" | version u8 = 3 | island u64 | name len u8, UTF-8 | leader 32 | services u32 |
/// type count u16, (len u8, text)* | term u64 | relay offer` — strict and total. The relay
/// offer is encoded as service records carry it (`ServiceRecordCodec.offerBytes`, at most
/// `RelayOffer.maximumEndpoints` endpoints; only its endpoints count). An entry without relay
/// endpoints is written as version 2 (no offer), which gateways before version 3 still read.
/// Versions 1 (no term, read as term 0) and 2 (no offer, read as no relay) are still read, so
/// entries of older gateways keep working.
public enum IslandDirectoryCodec {
    public static let magic: [UInt8] = Array("z2zD".utf8)

    public static func encode(_ entry: IslandDirectoryEntry) -> [UInt8] {
        var out = magic + [entry.relay.isEmpty ? 2 : 3]
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
        if !entry.relay.isEmpty {
            out += ServiceRecordCodec.offerBytes(RelayOffer(endpoints: entry.relay, lanPrefixes: [], lanRouted: false))
        }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(IslandDirectoryRejection) -> IslandDirectoryEntry {
        var reader = ByteReader<IslandDirectoryRejection>(bytes)
        guard try reader.take(4) == magic else { throw .badMagic }
        let version = try reader.u8()
        guard (1...3).contains(version) else { throw .unsupportedVersion(version) }
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
        let relay = version >= 3 ? try relayEndpoints(try reader.take(reader.remaining)) : []
        try reader.expectEnd()
        return IslandDirectoryEntry(island: island, name: name, leader: leader, types: types, services: services, term: term,
                                    relay: relay)
    }

    /// The endpoints of a relay offer that ends the entry, read as `ServiceRecordCodec` reads
    /// a record's; a short or overlong one is `.read`, like any other field.
    private static func relayEndpoints(_ bytes: [UInt8]) throws(IslandDirectoryRejection) -> [Endpoint] {
        var reader = ByteReader<ServiceRecordRejection>(bytes)
        do throws(ServiceRecordRejection) {
            let endpoints = try ServiceRecordCodec.offer(&reader).endpoints
            try reader.expectEnd()
            return endpoints
        } catch {
            if case .read(let error) = error { throw .read(error) }
            throw .invalidRelay(error)
        }
    }
}
