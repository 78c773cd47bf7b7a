import DNSSD
import Primitives

/// What a gateway announces about itself on its link, as the `_z2z._udp` service's TXT
/// record, so the other gateways of the link find it without configuration:
/// `v` protocol version, `id` node id (64 hex digits), `prio` election priority,
/// `port` DHT/heartbeat UDP port, `net` network id (16 hex digits).
public struct GatewayAdvert: Hashable, Sendable {
    public static let serviceType: ServiceType = {
        guard let type = try? ServiceType(name: "z2z", transport: .udp) else { preconditionFailure("_z2z._udp is valid") }
        return type
    }()
    public static let protocolVersion = 1

    public var id: NodeID
    public var priority: UInt8
    public var port: UInt16
    public var network: NetworkID

    public init(id: NodeID, priority: UInt8, port: UInt16, network: NetworkID) {
        self.id = id
        self.priority = priority
        self.port = port
        self.network = network
    }

    public var txt: TXTRecord {
        // Keys and values are short ASCII: always a valid record.
        (try? TXTRecord([
            "v": "\(Self.protocolVersion)", "id": Self.hex(id.bytes), "prio": "\(priority)",
            "port": "\(port)", "net": Self.hex16(network.rawValue),
        ])) ?? .empty
    }

    /// Reads an advert; nil (with the reason) when it is not one of ours or is malformed.
    public static func parse(_ txt: TXTRecord) -> Result<GatewayAdvert, AdvertRejection> {
        guard let version = txt["v"]?.text.flatMap({ Int($0) }) else { return .failure(.missing("v")) }
        guard version == protocolVersion else { return .failure(.unsupportedVersion(version)) }
        guard let idText = txt["id"]?.text, let idBytes = bytes(hex: idText), idBytes.count == 32 else {
            return .failure(.missing("id"))
        }
        guard let priority = txt["prio"]?.text.flatMap({ UInt8($0) }) else { return .failure(.missing("prio")) }
        guard let port = txt["port"]?.text.flatMap({ UInt16($0) }), port != 0 else { return .failure(.missing("port")) }
        guard let netText = txt["net"]?.text, netText.count == 16, let network = UInt64(netText, radix: 16) else {
            return .failure(.missing("net"))
        }
        return .success(GatewayAdvert(id: NodeID(bytes: idBytes), priority: priority, port: port,
                                      network: NetworkID(rawValue: network)))
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { hex16(UInt64($0), digits: 2) }.joined() }

    static func hex16(_ value: UInt64, digits: Int = 16) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    static func bytes(hex: String) -> [UInt8]? {
        let characters = Array(hex.utf8)
        guard characters.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for index in stride(from: 0, to: characters.count, by: 2) {
            guard let byte = UInt8(String(decoding: characters[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}

/// Why a `_z2z._udp` advert was not taken as a gateway.
public enum AdvertRejection: Error, Hashable, Sendable {
    case missing(String)
    case unsupportedVersion(Int)

    public var reason: String {
        switch self {
        case .missing: "advert_field_missing"
        case .unsupportedVersion: "advert_unsupported_version"
        }
    }
}
