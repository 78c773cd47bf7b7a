import DNSSD
import Island
import Primitives

/// What a relayed stream asks the exporting leader for: a service by name, never an
/// address. The exporting leader maps it to LAN endpoints itself (its authorizer), so a
/// request can reach only what that leader exports.
///
/// `transport` says how the stream is carried (bytes for TCP, framed datagrams for UDP); it
/// usually follows the type's label, but RFC 6763 §7 gives `_udp` to every non-TCP
/// protocol, so it is kept apart. Revocation covers both transports of an instance.
public struct ServiceRef: Hashable, Sendable, CustomStringConvertible {
    public var island: IslandID
    public var type: ServiceType
    public var name: InstanceName
    public var transport: TransportProtocol

    public init(island: IslandID, type: ServiceType, name: InstanceName, transport: TransportProtocol? = nil) {
        self.island = island
        self.type = type
        self.name = name
        self.transport = transport ?? type.transport
    }

    /// True when `other` names the same instance, whatever its transport.
    public func isSameInstance(as other: ServiceRef) -> Bool {
        island == other.island && type == other.type && name == other.name
    }

    /// `Lab Printer [_ipp._tcp] of island 00000000000000a1 over tcp`
    public var description: String { "\(name) [\(type)] of island \(island) over \(transport.rawValue)" }
}

/// How a `ServiceRef` travels in the SSH channel request: the target host of a
/// `direct-tcpip` channel, or the listening host of a `forwarded-tcpip` one over a reverse
/// tunnel (RFC 4254 §7.2, `StreamOpener`), whose port is sent as 0. nio-ssh opens no
/// channel types of its own, so the target host carries a versioned, strict binary
/// encoding as lowercase hex (SSH strings are text to nio-ssh):
///
///     "z2z-relay-1:" hex( island u64 | transport u8 (0 tcp, 1 udp)
///                         | type length u8 | type "_ipp._tcp" | name length u8 | name UTF-8 )
///
/// Decoding checks the length before reading, validates the type and instance name as
/// DNS-SD does (RFC 6763, RFC 6335) and rejects trailing bytes; every failure is
/// `RelayRefusal.malformedRequest`.
public enum ServiceRefCodec {
    public static let prefix = "z2z-relay-1:"
    /// Longest target accepted: prefix plus the hex of the largest valid encoding.
    public static let maximumTargetLength = prefix.utf8.count + 2 * (8 + 1 + 1 + 21 + 1 + InstanceName.maximumBytes)

    public static func encode(_ ref: ServiceRef) -> String {
        var w = ByteWriter(capacity: 96)
        w.u64(ref.island.rawValue)
        w.u8(ref.transport == .tcp ? 0 : 1)
        let type = Array(ref.type.description.utf8), name = Array(ref.name.value.utf8)
        w.u8(UInt8(type.count))
        w.bytes(type)
        w.u8(UInt8(name.count))
        w.bytes(name)
        return prefix + Hex.encode(w.buffer)
    }

    public static func decode(_ target: String) throws(RelayRefusal) -> ServiceRef {
        guard target.utf8.count <= maximumTargetLength, target.hasPrefix(prefix),
              let bytes = Hex.decode(target.utf8.dropFirst(prefix.utf8.count))
        else { throw .malformedRequest }
        var r = ByteReader<RelayRefusal>(bytes)
        let island = IslandID(rawValue: try r.u64())
        let transport: TransportProtocol
        switch try r.u8() {
        case 0: transport = .tcp
        case 1: transport = .udp
        default: throw .malformedRequest
        }
        let typeBytes = try r.take(Int(try r.u8()))
        let nameBytes = try r.take(Int(try r.u8()))
        try r.expectEnd()
        guard let typeText = String(validating: typeBytes, as: UTF8.self),
              let type = try? ServiceType(typeText), type.description == typeText,
              let name = try? InstanceName(bytes: nameBytes)
        else { throw .malformedRequest }
        return ServiceRef(island: island, type: type, name: name, transport: transport)
    }
}

extension RelayRefusal: ByteReadRejection {
    /// Every short or overlong relay message is a malformed request.
    public init(_ error: ByteReadError) { self = .malformedRequest }
}

/// Lowercase hexadecimal, strict on the way in (even length, lowercase digits only).
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(text.count / 2)
        var high: UInt8?
        for c in text {
            guard let v = value(c) else { return nil }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }
}
