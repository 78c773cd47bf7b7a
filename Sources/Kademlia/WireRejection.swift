import Primitives

/// Why the decoder refused a datagram. Decoding is total: every byte string either yields
/// a `Message` or one of these, never a crash. `reason` is the metric label.
public enum WireRejection: ByteReadRejection, Hashable, Sendable {
    case frameTooLarge
    case truncated
    case trailingBytes
    case unsupportedVersion(UInt8)
    case unknownKind(UInt8)
    case unknownFlags(UInt8)
    case unknownAddressFamily(UInt8)
    case tooManyContacts
    case tooManyRecords
    case payloadTooLarge
    /// A `refresh` or `probe` naming more values than `Limits.maxVersionsPerMessage` (or
    /// an answer listing more).
    case tooManyVersions
    /// A field holds a value the format does not allow (a boolean other than 0/1, a
    /// rejection code that does not exist, a lifetime above the signed one, a refresh that
    /// names no value).
    case invalidField
    /// Admission (`NetworkKey`): a frame without a tag on a keyed network...
    case missingTag
    /// ...a tag that does not verify (another key, or altered bytes)...
    case badTag
    /// ...or a tagged frame reaching a node in open mode.
    case unexpectedTag

    /// The byte reader's shared failures (a frame's `trailingBytes` carries no count).
    public init(_ error: ByteReadError) {
        switch error {
        case .truncated: self = .truncated
        case .trailingBytes: self = .trailingBytes
        }
    }

    public var reason: String {
        switch self {
        case .frameTooLarge: "frame_too_large"
        case .truncated: "truncated"
        case .trailingBytes: "trailing_bytes"
        case .unsupportedVersion: "unsupported_version"
        case .unknownKind: "unknown_kind"
        case .unknownFlags: "unknown_flags"
        case .unknownAddressFamily: "unknown_address_family"
        case .tooManyContacts: "too_many_contacts"
        case .tooManyRecords: "too_many_records"
        case .payloadTooLarge: "payload_too_large"
        case .tooManyVersions: "too_many_versions"
        case .invalidField: "invalid_field"
        case .missingTag: "missing_tag"
        case .badTag: "bad_tag"
        case .unexpectedTag: "unexpected_tag"
        }
    }
}
