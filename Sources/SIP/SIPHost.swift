/// The host of a SIP URI or Via sent-by: a host name, an IPv4 address or an IPv6 reference.
///
/// RFC 3261 §25.1 `host`. Host names compare ignoring ASCII case (§19.1.4), so they are kept
/// lower-cased; IPv6 addresses are kept as 16 bytes and printed in RFC 5952 form, so
/// `[2001:DB8::0:1]` and `[2001:db8::1]` are the same host.
/// Deviation: a top label starting with a digit (`host.123`) is refused, as the grammar says,
/// although some resolvers would accept it.
public enum SIPHost: Hashable, Sendable, CustomStringConvertible {
    case name(String)
    case ipv4(UInt32)
    case ipv6([UInt8])

    public init(parsing text: String) throws(SIPRejection) {
        self = try Self.parse(Array(text.utf8)[...])
    }

    static func parse(_ bytes: ArraySlice<UInt8>) throws(SIPRejection) -> SIPHost {
        guard let first = bytes.first else { throw .uriHostInvalid }
        if first == UInt8(ascii: "[") {
            guard bytes.count > 2, bytes.last == UInt8(ascii: "]"),
                  let address = parseIPv6(bytes.dropFirst().dropLast()) else { throw .uriHostInvalid }
            return .ipv6(address)
        }
        if let address = parseIPv4(bytes) { return .ipv4(address) }
        guard isHostname(bytes) else { throw .uriHostInvalid }
        return .name(SIPBytes.lowercased(bytes))
    }

    public var description: String {
        switch self {
        case .name(let name): name
        case .ipv4(let value): Self.format(ipv4: value)
        case .ipv6(let bytes): "[\(Self.format(ipv6: bytes))]"
        }
    }

    // MARK: grammar

    /// hostname = *( domainlabel "." ) toplabel [ "." ]
    static func isHostname(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 255 else { return false }
        var labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if labels.count > 1, labels.last?.isEmpty == true { labels.removeLast() }
        guard let top = labels.last, let topFirst = top.first, SIPBytes.isAlpha(topFirst) else { return false }
        for label in labels {
            guard let head = label.first, let tail = label.last, label.count <= 63,
                  SIPBytes.isAlphanumeric(head), SIPBytes.isAlphanumeric(tail),
                  label.allSatisfy({ SIPBytes.isAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else { return false }
        }
        return true
    }

    static func parseIPv4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let octet = SIPBytes.decimal(part, maximum: 255) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    /// RFC 3261 IPv6address (the RFC 2373 text form): hex groups, one `::`, optional IPv4 tail.
    static func parseIPv6(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        guard bytes.count >= 2, bytes.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var text = bytes
        if text.starts(with: [0x3a, 0x3a]) {
            sawDoubleColon = true
            text = text.dropFirst(2)
            if text.isEmpty { return [UInt8](repeating: 0, count: 16) }
        } else if text.first == 0x3a {
            return nil
        }
        var groups = text.split(separator: 0x3a, omittingEmptySubsequences: false)[...]
        while let group = groups.first {
            groups = groups.dropFirst()
            if group.isEmpty {
                // An empty group is the second half of "::" (or a trailing "::").
                guard !sawDoubleColon, !groups.isEmpty else { return nil }
                sawDoubleColon = true
                if groups.count == 1, groups.first?.isEmpty == true { groups = groups.dropFirst() }
                continue
            }
            if groups.isEmpty, group.contains(UInt8(ascii: ".")) {
                guard let v4 = parseIPv4(group) else { return nil }
                let pair = [UInt16(truncatingIfNeeded: v4 >> 16), UInt16(truncatingIfNeeded: v4)]
                if sawDoubleColon { tail += pair } else { head += pair }
                continue
            }
            guard group.count <= 4, let value = SIPBytes.decimalHex(group) else { return nil }
            if sawDoubleColon { tail.append(value) } else { head.append(value) }
        }
        let total = head.count + tail.count
        if sawDoubleColon { guard total < 8 else { return nil } } else { guard total == 8 else { return nil } }
        let words = head + [UInt16](repeating: 0, count: 8 - total) + tail
        return words.flatMap { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] }
    }

    static func format(ipv4 value: UInt32) -> String {
        (0..<4).map { String((value >> (24 - 8 * UInt32($0))) & 0xff) }.joined(separator: ".")
    }

    /// RFC 5952 §4: lower case, no leading zeros, the longest run of two or more zero groups as "::".
    static func format(ipv6 bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return "" }
        let words = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            if words[index] == 0 {
                var end = index
                while end < 8, words[end] == 0 { end += 1 }
                if end - index > bestLength { bestStart = index; bestLength = end - index }
                index = end
            } else {
                index += 1
            }
        }
        let hex = words.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let left = hex[0..<bestStart].joined(separator: ":")
        let right = hex[(bestStart + bestLength)...].joined(separator: ":")
        return "\(left)::\(right)"
    }
}

extension SIPBytes {
    /// 1*4HEXDIG as a 16-bit value.
    static func decimalHex(_ bytes: ArraySlice<UInt8>) -> UInt16? {
        guard !bytes.isEmpty, bytes.count <= 4 else { return nil }
        var value: UInt16 = 0
        for byte in bytes {
            guard let digit = hexValue(byte) else { return nil }
            value = value << 4 | UInt16(digit)
        }
        return value
    }
}
