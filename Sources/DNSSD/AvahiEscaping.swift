/// The text encodings `avahi-browse -p` prints, so our output can be diffed against it and
/// its output parsed in tests.
///
/// Written by hand because no Swift library speaks them: they mirror avahi-common's
/// `avahi_escape_label` (domain.c) and `avahi_string_list_to_string` (strlst.c).
public enum AvahiEscaping {
    /// Escapes one label: `.` and `\` get a backslash; letters, digits, `-` and `_` stay;
    /// every other byte becomes `\DDD` (three decimal digits), UTF-8 byte by byte.
    public static func escapeLabel(_ label: String) -> String {
        var out = ""
        for byte in label.utf8 {
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "\\"):
                out.append("\\")
                out.append(Character(Unicode.Scalar(byte)))
            case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out += decimalEscape(byte)
            }
        }
        return out
    }

    /// Reverses `escapeLabel` (and any DNS presentation escaping of a single label).
    public static func unescapeLabel(_ text: String) throws(DNSSDError) -> [UInt8] {
        let input = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < input.count {
            let byte = input[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 1 < input.count else { throw .escapeMalformed(text: text, offset: index) }
            if isDigit(input[index + 1]) {
                guard index + 3 < input.count, isDigit(input[index + 2]), isDigit(input[index + 3]) else {
                    throw .escapeMalformed(text: text, offset: index)
                }
                let value = input[(index + 1)...(index + 3)].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                guard value <= 255 else { throw .escapeMalformed(text: text, offset: index) }
                out.append(UInt8(value))
                index += 4
            } else {
                out.append(input[index + 1])
                index += 2
            }
        }
        return out
    }

    /// A TXT record as `avahi-browse -p` prints it: each string in double quotes, `"` and `\`
    /// escaped with a backslash, bytes below 32 and from 128 up as `\DDD`, separated by spaces.
    /// Avahi prints the strings in reverse wire order (it reverses its list before printing);
    /// we do the same so the two outputs compare equal.
    ///
    /// Deviation from current upstream avahi (0.9): DEL (0x7F) is printed as the raw byte, as avahi 0.8 does
    /// (it tests `*p < 32` on a signed `char`, so on x86 only the high bytes and controls are
    /// escaped); avahi 0.9 prints `\127`. We match 0.8, the version our hosts run (Debian 12);
    /// `unquoteTXT` reads both forms.
    public static func quoteTXT(_ txt: TXTRecord) -> String {
        txt.strings.reversed().map(quoteString).joined(separator: " ")
    }

    static func quoteString(_ string: [UInt8]) -> String {
        var out = "\""
        for byte in string {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append("\\")
            }
            if byte < 32 || byte >= 128 {
                out += decimalEscape(byte)
            } else {
                out.append(Character(Unicode.Scalar(byte)))
            }
        }
        return out + "\""
    }

    /// Reverses `quoteTXT`: returns the strings in wire order.
    public static func unquoteTXT(_ text: String) throws(DNSSDError) -> [[UInt8]] {
        let input = Array(text.utf8)
        var strings: [[UInt8]] = []
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: " ") { index += 1; continue }
            guard input[index] == UInt8(ascii: "\"") else { throw .escapeMalformed(text: text, offset: index) }
            index += 1
            var current: [UInt8] = []
            var closed = false
            while index < input.count {
                let byte = input[index]
                if byte == UInt8(ascii: "\"") { closed = true; index += 1; break }
                if byte != UInt8(ascii: "\\") { current.append(byte); index += 1; continue }
                guard index + 1 < input.count else { throw .escapeMalformed(text: text, offset: index) }
                let next = input[index + 1]
                if isDigit(next) {
                    guard index + 3 < input.count, isDigit(input[index + 2]), isDigit(input[index + 3]) else {
                        throw .escapeMalformed(text: text, offset: index)
                    }
                    let value = input[(index + 1)...(index + 3)].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                    guard value <= 255 else { throw .escapeMalformed(text: text, offset: index) }
                    current.append(UInt8(value))
                    index += 4
                } else {
                    current.append(next)
                    index += 2
                }
            }
            guard closed else { throw .escapeMalformed(text: text, offset: input.count) }
            strings.append(current)
        }
        return strings.reversed()
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func decimalEscape(_ byte: UInt8) -> String {
        let digits = [byte / 100, (byte / 10) % 10, byte % 10].map { Character(Unicode.Scalar($0 + 48)) }
        return "\\" + String(digits)
    }
}
