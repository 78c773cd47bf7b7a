import DNSSD
import Island
import Primitives

/// Why a service record payload was refused. `reason` is the metric label.
public enum ServiceRecordRejection: ByteReadRejection, Hashable, Sendable {
    case badMagic
    case unsupportedVersion(UInt8)
    /// Too short, or bytes left over (`ByteReadError`).
    case read(ByteReadError)
    case tooManyAddresses(Int)
    case noAddress
    case tooManySubtypes(Int)
    case invalidField(String, DNSSDError)
    case islandNameTooLong(Int)
    case hostLabelInvalid
    case tooManyPrefixes(Int)
    case tooManyEndpoints(Int)

    /// The byte reader's shared failures.
    public init(_ error: ByteReadError) { self = .read(error) }

    public var reason: String {
        switch self {
        case .badMagic: "bad_magic"
        case .unsupportedVersion: "unsupported_version"
        case .read(let error): error.reason
        case .tooManyAddresses: "too_many_addresses"
        case .noAddress: "no_address"
        case .tooManySubtypes: "too_many_subtypes"
        case .invalidField(_, let error): error.reason
        case .islandNameTooLong: "island_name_too_long"
        case .hostLabelInvalid: "host_label_invalid"
        case .tooManyPrefixes: "too_many_prefixes"
        case .tooManyEndpoints: "too_many_endpoints"
        }
    }
}

/// The binary form of `ServiceRecord`, strict and total (big-endian):
///
///     "z2zS" | version u8 = 1|2 | island u64 | islandName len u8, bytes | name len u8, bytes |
///     type len u8, text | port u16 | subtype count u8, (len u8, bytes)* |
///     address count u8, (family u8 = 4|6, 4|16 bytes)* | hostLabel len u8, bytes |
///     txt len u16, wire-format TXT |
///     version 2 only: LAN routed u8 = 0|1, prefix count u8, (family u8, 4|16 bytes, length u8)*,
///     relay endpoint count u8, (family u8, 4|16 bytes, port u16)*
///
/// Every field is validated with the DNSSD rules on the way in; a record that decodes is a
/// record that can be published.
public enum ServiceRecordCodec {
    public static let magic: [UInt8] = Array("z2zS".utf8)
    /// A record without a relay offer is written as version 1, byte for byte as before the
    /// relay, so gateways that know only version 1 still read it; one with an offer is
    /// version 2 (the offer after the TXT). Both are read.
    public static let version: UInt8 = 1
    public static let relayVersion: UInt8 = 2

    public static func encode(_ record: ServiceRecord) -> [UInt8] {
        var out = magic
        out.append(record.relay == nil ? version : relayVersion)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: record.island.rawValue >> UInt64(shift))) }
        short(Array(record.islandName.utf8.prefix(63)), &out)
        short(Array(record.name.value.utf8), &out)
        short(Array(record.type.description.utf8), &out)
        out += [UInt8(record.port >> 8), UInt8(record.port & 0xff)]
        let subtypes = record.subtypes.prefix(ServiceRecord.maximumSubtypes)
        out.append(UInt8(subtypes.count))
        for subtype in subtypes { short(Array(subtype.label.utf8), &out) }
        let addresses = record.addresses.prefix(ServiceRecord.maximumAddresses)
        out.append(UInt8(addresses.count))
        for address in addresses {
            out.append(address.isIPv4 ? 4 : 6)
            out += address.bytes
        }
        short(Array(record.hostLabel.utf8.prefix(63)), &out)
        let txt = record.txt.wireFormat
        out += [UInt8(txt.count >> 8), UInt8(txt.count & 0xff)]
        out += txt
        if let relay = record.relay { out += offerBytes(relay) }
        return out
    }

    /// A relay offer's bytes, as version 2 records carry it after the TXT.
    static func offerBytes(_ relay: RelayOffer) -> [UInt8] {
        var out: [UInt8] = [relay.lanRouted ? 1 : 0]
        let prefixes = relay.lanPrefixes.prefix(ServiceRecord.maximumPrefixes)
        out.append(UInt8(prefixes.count))
        for prefix in prefixes {
            out.append(prefix.network.isIPv4 ? 4 : 6)
            out += prefix.network.bytes
            out.append(UInt8(prefix.length))
        }
        let endpoints = relay.endpoints.prefix(RelayOffer.maximumEndpoints)
        out.append(UInt8(endpoints.count))
        for endpoint in endpoints {
            let bytes = endpoint.address.bytes
            out.append(bytes.count == 4 ? 4 : 6)
            out += bytes
            out += [UInt8(endpoint.port >> 8), UInt8(endpoint.port & 0xff)]
        }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(ServiceRecordRejection) -> ServiceRecord {
        var reader = ByteReader<ServiceRecordRejection>(bytes)
        guard try reader.take(4) == magic else { throw .badMagic }
        let version = try reader.u8()
        guard version == Self.version || version == relayVersion else { throw .unsupportedVersion(version) }
        let island = IslandID(rawValue: try reader.u64())
        let islandNameBytes = try reader.short()
        guard let islandName = String(validating: islandNameBytes, as: UTF8.self) else {
            throw .invalidField("island name", .invalidUTF8(offset: 0))
        }
        let nameBytes = try reader.short()
        let name = try field("name") { () throws(DNSSDError) in try InstanceName(bytes: nameBytes) }
        let typeText = String(decoding: try reader.short(), as: UTF8.self)
        let type = try field("type") { () throws(DNSSDError) in try ServiceType(typeText) }
        let port = try reader.u16()
        let subtypeCount = Int(try reader.u8())
        guard subtypeCount <= ServiceRecord.maximumSubtypes else { throw .tooManySubtypes(subtypeCount) }
        var subtypes: [Subtype] = []
        for _ in 0..<subtypeCount {
            let label = String(decoding: try reader.short(), as: UTF8.self)
            subtypes.append(try field("subtype") { () throws(DNSSDError) in try Subtype(label) })
        }
        let addressCount = Int(try reader.u8())
        guard addressCount <= ServiceRecord.maximumAddresses else { throw .tooManyAddresses(addressCount) }
        // Only a record with a relay offer (version 2) may come without an address.
        guard addressCount > 0 || version == relayVersion else { throw .noAddress }
        var addresses: [IPAddress] = []
        for _ in 0..<addressCount { addresses.append(try address(&reader, "address")) }
        let hostLabelBytes = try reader.short()
        guard let hostLabel = String(validating: hostLabelBytes, as: UTF8.self), !hostLabel.isEmpty,
              !hostLabel.contains("."), (try? DomainName(hostLabel)) != nil else { throw .hostLabelInvalid }
        let txtLength = Int(try reader.u16())
        let txtBytes = try reader.take(txtLength)
        let txt = try field("txt") { () throws(DNSSDError) in try TXTRecord(wireFormat: txtBytes) }
        let relay = version == relayVersion ? try offer(&reader) : nil
        try reader.expectEnd()
        return ServiceRecord(island: island, islandName: islandName, name: name, type: type, subtypes: subtypes,
                             port: port, txt: txt, addresses: addresses, hostLabel: hostLabel, relay: relay)
    }

    /// An address: its family (4 or 6), then its bytes.
    private static func address(_ reader: inout ByteReader<ServiceRecordRejection>, _ what: String) throws(ServiceRecordRejection) -> IPAddress {
        let family = try reader.u8()
        guard family == 4 || family == 6 else { throw .invalidField(what, .addressMalformed("family \(family)")) }
        let raw = try reader.take(family == 4 ? 4 : 16)
        return try field(what) { () throws(DNSSDError) in try IPAddress(bytes: raw) }
    }

    /// The relay offer of version 2: whether the LAN is routed, then its prefixes.
    static func offer(_ reader: inout ByteReader<ServiceRecordRejection>) throws(ServiceRecordRejection) -> RelayOffer {
        let routed = try reader.u8()
        guard routed <= 1 else { throw .invalidField("relay", .addressMalformed("routed flag \(routed)")) }
        let count = Int(try reader.u8())
        guard count <= ServiceRecord.maximumPrefixes else { throw .tooManyPrefixes(count) }
        var prefixes: [IPPrefix] = []
        for _ in 0..<count {
            let network = try address(&reader, "relay prefix")
            let length = Int(try reader.u8())
            guard let prefix = IPPrefix(network, length: length), prefix.network == network else {
                throw .invalidField("relay prefix", .addressMalformed("\(network)/\(length)"))
            }
            prefixes.append(prefix)
        }
        let endpointCount = Int(try reader.u8())
        guard endpointCount <= RelayOffer.maximumEndpoints else { throw .tooManyEndpoints(endpointCount) }
        var endpoints: [Endpoint] = []
        for _ in 0..<endpointCount {
            let address = try address(&reader, "relay endpoint")
            endpoints.append(Endpoint(address: Endpoint.Address(address), port: try reader.u16()))
        }
        return RelayOffer(endpoints: endpoints, lanPrefixes: prefixes, lanRouted: routed == 1)
    }

    private static func field<T>(_ name: String, _ body: () throws(DNSSDError) -> T) throws(ServiceRecordRejection) -> T {
        do { return try body() } catch { throw .invalidField(name, error) }
    }

    private static func short(_ bytes: [UInt8], _ out: inout [UInt8]) {
        out.append(UInt8(min(bytes.count, 255)))
        out += bytes.prefix(255)
    }
}

extension ByteReader {
    /// A field of up to 255 bytes after its length byte (service records, directory entries).
    mutating func short() throws(Failure) -> [UInt8] { try take(Int(try u8())) }
}
