/// One `key[=value]` string of a TXT record (RFC 6763 §6.3–6.5).
///
/// `value == nil` is a boolean attribute (`key` with no `=`); `value == []` is `key=` with an
/// empty value. Values are raw bytes and are carried byte for byte.
public struct TXTEntry: Hashable, Sendable {
    public let key: String
    public let value: [UInt8]?

    public init(key: String, value: [UInt8]?) throws(DNSSDError) {
        try Self.validate(key: Array(key.utf8), valueCount: value?.count, index: 0)
        self.key = key
        self.value = value
    }

    public init(key: String, text: String?) throws(DNSSDError) {
        try self.init(key: key, value: text.map { Array($0.utf8) })
    }

    /// Parses one string as it appears on the wire; `index` only labels errors.
    public init(string: [UInt8], index: Int = 0) throws(DNSSDError) {
        guard !string.isEmpty else { throw .txtStringEmpty(index: index) }
        let equals = string.firstIndex(of: UInt8(ascii: "="))
        let keyBytes = Array(string[..<(equals ?? string.count)])
        let value = equals.map { Array(string[($0 + 1)...]) }
        try Self.validate(key: keyBytes, valueCount: value?.count, index: index)
        self.key = String(decoding: keyBytes, as: UTF8.self) // printable ASCII: lossless
        self.value = value
    }

    private static func validate(key: [UInt8], valueCount: Int?, index: Int) throws(DNSSDError) {
        guard !key.isEmpty else { throw .txtKeyEmpty(index: index) }
        // Printable US-ASCII 0x20–0x7E, excluding '=' (RFC 6763 §6.4).
        if let bad = key.first(where: { $0 < 0x20 || $0 > 0x7e || $0 == UInt8(ascii: "=") }) {
            throw .txtKeyInvalidByte(index: index, byte: bad)
        }
        let size = key.count + (valueCount.map { $0 + 1 } ?? 0)
        guard size <= 255 else { throw .txtStringTooLong(index: index, bytes: size) }
    }

    /// The string as it goes on the wire: `key`, or `key=` followed by the value bytes.
    public var string: [UInt8] {
        guard let value else { return Array(key.utf8) }
        return Array(key.utf8) + [UInt8(ascii: "=")] + value
    }

    /// The value as text when it is valid UTF-8.
    public var text: String? { value.flatMap { String(validating: $0, as: UTF8.self) } }
}

/// The TXT record of a DNS-SD service: an ordered list of attributes with distinct keys.
///
/// Invariants: every string is 1–255 bytes; keys are printable US-ASCII without `=` and
/// unique ignoring ASCII case (RFC 6763 §6.4); the wire form fits one mDNS message.
/// `init(entries:)` refuses records that break them; `receiving(_:)` is the receiver's
/// reading of RFC 6763 §6.4 — it keeps the first occurrence of a key and drops (and reports)
/// the rest, so a service from the network is never refused for a sloppy TXT record.
public struct TXTRecord: Hashable, Sendable, Sequence {
    /// Avahi builds mDNS messages of at most 9000 bytes (RFC 6762 §17); leave room for the
    /// rest of the response so a record we accept can always be published.
    public static let maximumWireSize = 8900

    public private(set) var entries: [TXTEntry]

    public static let empty = TXTRecord(uncheckedEntries: [])

    public init(entries: [TXTEntry]) throws(DNSSDError) {
        var seen = Set<String>()
        for (index, entry) in entries.enumerated() {
            guard seen.insert(asciiLowercased(entry.key)).inserted else {
                throw .txtDuplicateKey(index: index, key: entry.key)
            }
        }
        let record = TXTRecord(uncheckedEntries: entries)
        guard record.wireSize <= Self.maximumWireSize else { throw .txtTooLarge(bytes: record.wireSize) }
        self = record
    }

    /// Builds a record from `key=value` pairs (`nil` value: boolean attribute).
    public init(_ pairs: KeyValuePairs<String, String?>) throws(DNSSDError) {
        var entries: [TXTEntry] = []
        for (key, text) in pairs { entries.append(try TXTEntry(key: key, text: text)) }
        try self.init(entries: entries)
    }

    /// Reads strings received from the network: invalid strings and repeated keys are dropped
    /// with a reason each; empty strings (an empty TXT record is one empty string) are skipped.
    public static func receiving(_ strings: [[UInt8]]) -> (record: TXTRecord, dropped: [DNSSDError]) {
        var entries: [TXTEntry] = []
        var dropped: [DNSSDError] = []
        var seen = Set<String>()
        var size = 0
        for (index, string) in strings.enumerated() where !string.isEmpty {
            do throws(DNSSDError) {
                let entry = try TXTEntry(string: string, index: index)
                guard seen.insert(asciiLowercased(entry.key)).inserted else {
                    throw .txtDuplicateKey(index: index, key: entry.key)
                }
                guard size + 1 + string.count <= Self.maximumWireSize else {
                    throw .txtTooLarge(bytes: size + 1 + string.count)
                }
                size += 1 + string.count
                entries.append(entry)
            } catch {
                dropped.append(error)
            }
        }
        return (TXTRecord(uncheckedEntries: entries), dropped)
    }

    /// Parses DNS TXT RDATA (length-prefixed strings), strictly: truncation is an error.
    public init(wireFormat bytes: [UInt8]) throws(DNSSDError) {
        var strings: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let length = Int(bytes[offset])
            guard offset + 1 + length <= bytes.count else { throw .txtWireTruncated(offset: offset) }
            strings.append(Array(bytes[(offset + 1)..<(offset + 1 + length)]))
            offset += 1 + length
        }
        var entries: [TXTEntry] = []
        for (index, string) in strings.enumerated() where !string.isEmpty {
            entries.append(try TXTEntry(string: string, index: index))
        }
        try self.init(entries: entries)
    }

    private init(uncheckedEntries: [TXTEntry]) { self.entries = uncheckedEntries }

    /// The strings in wire order.
    public var strings: [[UInt8]] { entries.map(\.string) }

    /// DNS RDATA: length-prefixed strings; an empty record is a single empty string (RFC 6763 §6.1).
    public var wireFormat: [UInt8] {
        guard !entries.isEmpty else { return [0] }
        var bytes: [UInt8] = []
        for string in strings {
            bytes.append(UInt8(string.count))
            bytes += string
        }
        return bytes
    }

    public var wireSize: Int { entries.isEmpty ? 1 : entries.reduce(0) { $0 + 1 + $1.string.count } }

    /// The entry for `key`, compared ignoring ASCII case.
    public subscript(key: String) -> TXTEntry? {
        let wanted = asciiLowercased(key)
        return entries.first { asciiLowercased($0.key) == wanted }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public func makeIterator() -> IndexingIterator<[TXTEntry]> { entries.makeIterator() }
}
