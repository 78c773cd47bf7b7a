/// Why a name, type, TXT record, address or escaped string was refused.
///
/// Every parser and validating initializer in `DNSSD` throws exactly this type, so a caller
/// can log the `reason` (a stable, metric-label-friendly code) next to the human `description`.
public enum DNSSDError: Error, Hashable, Sendable, CustomStringConvertible {
    // Instance names (RFC 6763 §4.1.1)
    case instanceNameEmpty
    case instanceNameTooLong(bytes: Int)
    case instanceNameControlCharacter(byte: UInt8, offset: Int)
    case invalidUTF8(offset: Int)

    // Service types (RFC 6763 §7, RFC 6335 §5.1)
    case serviceTypeMalformed(String)
    case serviceNameEmpty
    case serviceNameTooLong(characters: Int)
    case serviceNameInvalidCharacter(Character)
    case serviceNameNoLetter
    case serviceNameHyphenPlacement
    case transportInvalid(String)
    case subtypeEmpty
    case subtypeTooLong(bytes: Int)
    case subtypeControlCharacter(byte: UInt8)

    // Domain and host names (RFC 1035 §2.3.4, RFC 6762 §16)
    case nameEmpty
    case labelEmpty(name: String)
    case labelTooLong(label: String, bytes: Int)
    case nameTooLong(bytes: Int)
    case nameControlCharacter(byte: UInt8)

    // TXT records (RFC 6763 §6)
    case txtStringTooLong(index: Int, bytes: Int)
    case txtStringEmpty(index: Int)
    case txtKeyEmpty(index: Int)
    case txtKeyInvalidByte(index: Int, byte: UInt8)
    case txtDuplicateKey(index: Int, key: String)
    case txtTooLarge(bytes: Int)
    case txtWireTruncated(offset: Int)

    // Addresses
    case addressMalformed(String)

    // Escaped text (avahi-browse -p)
    case escapeMalformed(text: String, offset: Int)
    case parsableLineMalformed(String)

    /// A short, stable code naming the rule that was broken; used as a log key and metric label.
    public var reason: String {
        switch self {
        case .instanceNameEmpty: "instance_name_empty"
        case .instanceNameTooLong: "instance_name_too_long"
        case .instanceNameControlCharacter: "instance_name_control_character"
        case .invalidUTF8: "invalid_utf8"
        case .serviceTypeMalformed: "service_type_malformed"
        case .serviceNameEmpty: "service_name_empty"
        case .serviceNameTooLong: "service_name_too_long"
        case .serviceNameInvalidCharacter: "service_name_invalid_character"
        case .serviceNameNoLetter: "service_name_no_letter"
        case .serviceNameHyphenPlacement: "service_name_hyphen_placement"
        case .transportInvalid: "transport_invalid"
        case .subtypeEmpty: "subtype_empty"
        case .subtypeTooLong: "subtype_too_long"
        case .subtypeControlCharacter: "subtype_control_character"
        case .nameEmpty: "name_empty"
        case .labelEmpty: "label_empty"
        case .labelTooLong: "label_too_long"
        case .nameTooLong: "name_too_long"
        case .nameControlCharacter: "name_control_character"
        case .txtStringTooLong: "txt_string_too_long"
        case .txtStringEmpty: "txt_string_empty"
        case .txtKeyEmpty: "txt_key_empty"
        case .txtKeyInvalidByte: "txt_key_invalid_byte"
        case .txtDuplicateKey: "txt_duplicate_key"
        case .txtTooLarge: "txt_too_large"
        case .txtWireTruncated: "txt_wire_truncated"
        case .addressMalformed: "address_malformed"
        case .escapeMalformed: "escape_malformed"
        case .parsableLineMalformed: "parsable_line_malformed"
        }
    }

    public var description: String {
        switch self {
        case .instanceNameEmpty:
            "instance name is empty"
        case .instanceNameTooLong(let bytes):
            "instance name is \(bytes) bytes of UTF-8; at most \(InstanceName.maximumBytes) are allowed (RFC 6763 §4.1.1)"
        case .instanceNameControlCharacter(let byte, let offset):
            "instance name holds control character 0x\(hex(byte)) at byte \(offset) (RFC 6763 §4.1.1)"
        case .invalidUTF8(let offset):
            "text is not valid UTF-8 (at byte \(offset))"
        case .serviceTypeMalformed(let text):
            "service type '\(text)' is not of the form _name._tcp or _name._udp"
        case .serviceNameEmpty:
            "service name is empty"
        case .serviceNameTooLong(let count):
            "service name has \(count) characters; at most \(ServiceType.maximumNameLength) are allowed (RFC 6335 §5.1)"
        case .serviceNameInvalidCharacter(let character):
            "service name holds '\(character)'; only letters, digits and hyphens are allowed (RFC 6335 §5.1)"
        case .serviceNameNoLetter:
            "service name must hold at least one letter (RFC 6335 §5.1)"
        case .serviceNameHyphenPlacement:
            "service name must not begin or end with a hyphen or hold two in a row (RFC 6335 §5.1)"
        case .transportInvalid(let text):
            "transport '\(text)' is neither _tcp nor _udp (RFC 6763 §7)"
        case .subtypeEmpty:
            "subtype is empty"
        case .subtypeTooLong(let bytes):
            "subtype is \(bytes) bytes; a DNS label holds at most 63"
        case .subtypeControlCharacter(let byte):
            "subtype holds control character 0x\(hex(byte))"
        case .nameEmpty:
            "name is empty"
        case .labelEmpty(let name):
            "name '\(name)' has an empty label"
        case .labelTooLong(let label, let bytes):
            "label '\(label)' is \(bytes) bytes; at most 63 are allowed"
        case .nameTooLong(let bytes):
            "name is \(bytes) bytes; at most \(DomainName.maximumBytes) are allowed"
        case .nameControlCharacter(let byte):
            "name holds control character 0x\(hex(byte))"
        case .txtStringTooLong(let index, let bytes):
            "TXT string \(index) is \(bytes) bytes; at most 255 are allowed (RFC 6763 §6.1)"
        case .txtStringEmpty(let index):
            "TXT string \(index) is empty"
        case .txtKeyEmpty(let index):
            "TXT string \(index) has an empty key (RFC 6763 §6.4)"
        case .txtKeyInvalidByte(let index, let byte):
            "TXT key \(index) holds byte 0x\(hex(byte)); keys are printable US-ASCII without '=' (RFC 6763 §6.4)"
        case .txtDuplicateKey(let index, let key):
            "TXT string \(index) repeats key '\(key)'; only the first occurrence counts (RFC 6763 §6.4)"
        case .txtTooLarge(let bytes):
            "TXT record is \(bytes) bytes on the wire; at most \(TXTRecord.maximumWireSize) fit one mDNS message"
        case .txtWireTruncated(let offset):
            "TXT record data ends inside a string (at byte \(offset))"
        case .addressMalformed(let text):
            "'\(text)' is not an IPv4 or IPv6 address"
        case .escapeMalformed(let text, let offset):
            "escaped text '\(text)' is malformed at offset \(offset)"
        case .parsableLineMalformed(let line):
            "not an avahi-browse -p line: '\(line)'"
        }
    }
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
}
