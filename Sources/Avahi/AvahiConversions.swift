import CAvahi
import DNSSD
import LocalDomain

#if canImport(Glibc)
import Glibc
#endif

/// Conversions between Avahi's C values and the DNSSD model. Everything here is total:
/// text from the daemon is validated like any other network input.
enum AvahiConversions {
    /// Bytes of a C string, without assuming it is valid UTF-8.
    static func bytes(_ text: UnsafePointer<CChar>?) -> [UInt8] {
        guard let text else { return [] }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self),
                                         count: strlen(text)))
    }

    /// Text of a C string for logs and error messages (invalid UTF-8 is repaired).
    static func text(_ text: UnsafePointer<CChar>?) -> String {
        String(decoding: bytes(text), as: UTF8.self)
    }

    static func family(_ protocolValue: AvahiProtocol) -> AddressFamily? {
        switch protocolValue {
        case AvahiProtocol(AVAHI_PROTO_INET): .ipv4
        case AvahiProtocol(AVAHI_PROTO_INET6): .ipv6
        default: nil
        }
    }

    /// nil: both protocols (`AVAHI_PROTO_UNSPEC`).
    static func protocolValue(_ family: AddressFamily?) -> AvahiProtocol {
        switch family {
        case .ipv4: AvahiProtocol(AVAHI_PROTO_INET)
        case .ipv6: AvahiProtocol(AVAHI_PROTO_INET6)
        case nil: AvahiProtocol(AVAHI_PROTO_UNSPEC)
        }
    }

    static func address(_ address: UnsafePointer<AvahiAddress>?) -> IPAddress? {
        guard let address else { return nil }
        var value = address.pointee
        switch value.proto {
        case AvahiProtocol(AVAHI_PROTO_INET):
            return try? IPAddress(bytes: withUnsafeBytes(of: &value.data.ipv4.address) { Array($0) })
        case AvahiProtocol(AVAHI_PROTO_INET6):
            return try? IPAddress(bytes: withUnsafeBytes(of: &value.data.ipv6.address) { Array($0) })
        default:
            return nil
        }
    }

    static func avahiAddress(_ address: IPAddress) -> AvahiAddress {
        var result = AvahiAddress()
        let bytes = address.bytes
        switch address {
        case .v4:
            result.proto = AvahiProtocol(AVAHI_PROTO_INET)
            withUnsafeMutableBytes(of: &result.data.ipv4.address) { $0.copyBytes(from: bytes) }
        case .v6:
            result.proto = AvahiProtocol(AVAHI_PROTO_INET6)
            withUnsafeMutableBytes(of: &result.data.ipv6.address) { $0.copyBytes(from: bytes) }
        }
        return result
    }

    /// The strings of an Avahi string list as the resolver hands it over (head first is wire order).
    static func strings(_ list: UnsafeMutablePointer<AvahiStringList>?) -> [[UInt8]] {
        var strings: [[UInt8]] = []
        var node = list
        while let current = node {
            let size = avahi_string_list_get_size(current)
            if let text = avahi_string_list_get_text(current) {
                strings.append(Array(UnsafeBufferPointer(start: text, count: size)))
            }
            node = avahi_string_list_get_next(current)
        }
        return strings
    }

    /// Builds the list Avahi's publishing calls expect: `avahi_string_list_add_*` prepends,
    /// and Avahi reverses again when it serializes, so adding in wire order keeps wire order.
    /// The caller frees the list with `avahi_string_list_free`.
    static func stringList(_ txt: TXTRecord) -> UnsafeMutablePointer<AvahiStringList>? {
        var list: UnsafeMutablePointer<AvahiStringList>?
        for string in txt.strings {
            list = string.withUnsafeBufferPointer { avahi_string_list_add_arbitrary(list, $0.baseAddress, $0.count) }
        }
        return list
    }

    static func errorText(_ code: Int32) -> String { text(avahi_strerror(code)) }
}
