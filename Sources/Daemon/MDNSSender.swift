import Foundation
import LocalDomain
import Logging

/// Sends mDNS responses z2zd says itself in router mode (the goodbyes of its withdrawn
/// imports, the first announcement of new ones) to the mDNS groups on one interface, from
/// UDP port 5353 as responses must come (RFC 6762 §6), over IPv4 and IPv6. A socket per
/// call: publications and withdrawals are few, and nothing stays bound beside avahi-daemon.
/// Failures are logged, never thrown: avahi-daemon announces the same records, later.
struct MDNSSender: Sendable {
    let logger: Logger

    func send(_ bytes: [UInt8], on interface: InterfaceIndex) {
        send(ipv4: bytes, ipv6: bytes, on: interface)
    }

    /// `ipv4` to 224.0.0.251 and `ipv6` to ff02::fb (nil: nothing over that family).
    func send(ipv4: [UInt8]?, ipv6: [UInt8]?, on interface: InterfaceIndex) {
        let failures = [ipv4.flatMap { sendIPv4($0, interface) }.map { "ipv4: \($0)" },
                        ipv6.flatMap { sendIPv6($0, interface) }.map { "ipv6: \($0)" }].compactMap { $0 }
        if !failures.isEmpty {
            logger.debug("mDNS datagram not sent", metadata: ["interface": "\(interface)", "reason": "\(failures.joined(separator: "; "))"])
        }
    }

    /// Nil when sent; else why not.
    private func sendIPv4(_ bytes: [UInt8], _ interface: InterfaceIndex) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return "socket: errno \(errno)" }
        defer { close(fd) }
        var one: Int32 = 1, ttl: Int32 = 255
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var request = ip_mreqn()
        request.imr_ifindex = interface
        guard setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &request, socklen_t(MemoryLayout<ip_mreqn>.size)) == 0 else {
            return "IP_MULTICAST_IF: errno \(errno)"
        }
        setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &ttl, socklen_t(MemoryLayout<Int32>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = in_port_t(5353).bigEndian
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return "bind 5353: errno \(errno)" }
        var group = sockaddr_in()
        group.sin_family = sa_family_t(AF_INET)
        group.sin_port = in_port_t(5353).bigEndian
        group.sin_addr.s_addr = inet_addr("224.0.0.251")
        let sent = withUnsafePointer(to: &group) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return sent == bytes.count ? nil : "sendto: errno \(errno)"
    }

    private func sendIPv6(_ bytes: [UInt8], _ interface: InterfaceIndex) -> String? {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return "socket: errno \(errno)" }
        defer { close(fd) }
        var one: Int32 = 1, hops: Int32 = 255, index = UInt32(interface)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, &index, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
            return "IPV6_MULTICAST_IF: errno \(errno)"
        }
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops, socklen_t(MemoryLayout<Int32>.size))
        var local = sockaddr_in6()
        local.sin6_family = sa_family_t(AF_INET6)
        local.sin6_port = in_port_t(5353).bigEndian
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard bound == 0 else { return "bind 5353: errno \(errno)" }
        var group = sockaddr_in6()
        group.sin6_family = sa_family_t(AF_INET6)
        group.sin6_port = in_port_t(5353).bigEndian
        group.sin6_scope_id = UInt32(interface)
        guard inet_pton(AF_INET6, "ff02::fb", &group.sin6_addr) == 1 else { return "inet_pton" }
        let sent = withUnsafePointer(to: &group) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        return sent == bytes.count ? nil : "sendto: errno \(errno)"
    }
}
