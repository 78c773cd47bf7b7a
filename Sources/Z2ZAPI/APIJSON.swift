import Foundation

/// The one JSON encoding of the API: snake_case names (spelled out in each type's
/// `CodingKeys`, so renaming a Swift property cannot change the wire), sorted keys, dates
/// as ISO 8601 UTC (`2026-11-25T14:23:09Z`), absent optionals omitted.
public enum APIJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// Pretty-printed, for people (`--json` output).
    public static func prettyEncoder() -> JSONEncoder {
        let encoder = encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        return encoder
    }
}

/// A string-valued wire enumeration that tolerates values it does not know yet: a v1 client
/// must still read a newer daemon's `"stage": "splitting"`.
public protocol WireEnum: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral
where RawValue == String {
    init(rawValue: String)
}

extension WireEnum {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
    // Codable comes from the standard library's RawRepresentable conformance, which
    // decodes through `init(rawValue:)`; here that never fails.
}
