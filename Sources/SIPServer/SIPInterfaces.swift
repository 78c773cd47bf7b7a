import NIOCore
import NIOPosix
import SIP

/// The host's own addresses and the prefixes of its links, read once from the interfaces:
/// what the proxy calls "us" and where the registrar admits phones from.
public enum SIPInterfaces {
    public static func read() -> (hosts: Set<SIPHost>, networks: [SIPSubnet]) {
        var hosts: Set<SIPHost> = []
        var networks: [SIPSubnet] = []
        for device in (try? System.enumerateDevices()) ?? [] {
            guard let address = device.address, var ip = address.ipAddress else { continue }
            ip = String(ip.split(separator: "%").first ?? Substring(ip))
            let isIPv6 = ip.contains(":")
            guard let host = try? SIPHost(parsing: isIPv6 ? "[\(ip)]" : ip) else { continue }
            hosts.insert(host)
            guard let mask = device.netmask?.ipAddress else { continue }
            let maskText = mask.contains(":") ? "[\(mask.split(separator: "%").first ?? "")]" : mask
            guard let maskHost = try? SIPHost(parsing: maskText) else { continue }
            let length: Int
            switch maskHost {
            case .ipv4(let bits): length = bits.nonzeroBitCount
            case .ipv6(let bytes): length = bytes.reduce(0) { $0 + $1.nonzeroBitCount }
            case .name: continue
            }
            // Link-local IPv6 (fe80::/10) is every link's: it admits nobody in particular.
            if case .ipv6(let bytes) = host, bytes.count == 16, bytes[0] == 0xfe, bytes[1] & 0xc0 == 0x80 { continue }
            networks.append(SIPSubnet(network: host, prefixLength: length))
        }
        return (hosts, networks)
    }
}
