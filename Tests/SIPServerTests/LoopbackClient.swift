#if canImport(Glibc)
import Glibc
#endif
import SIP

/// Minimal blocking loopback sockets for the tests: send a message, wait for the answer with
/// a deadline (poll), never a fixed sleep.
struct LoopbackClient: ~Copyable {
    let descriptor: Int32
    let isStream: Bool
    private var framer = SIPStreamFramer()

    init(udpTo port: Int) throws(ClientError) {
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        isStream = false
        try connect(port)
    }

    init(tcpTo port: Int) throws(ClientError) {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        isStream = true
        try connect(port)
    }

    /// UDP over IPv6 loopback (::1).
    init(udp6To port: Int) throws(ClientError) {
        descriptor = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        isStream = false
        guard descriptor >= 0 else { throw .socket }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(port).bigEndian)
        address.sin6_addr = in6addr_loopback
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
        guard result == 0 else { throw .connect }
    }

    deinit { close(descriptor) }

    private func connect(_ port: Int) throws(ClientError) {
        guard descriptor >= 0 else { throw .socket }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw .connect }
    }

    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func send(_ bytes: [UInt8]) throws(ClientError) {
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw .send }
    }

    /// The next message, or nil when `timeout` passes first. Polls in 10 ms slices and yields
    /// between them, so the server's tasks keep running on the shared cooperative threads.
    mutating func receive(timeout: Duration = .seconds(5)) async -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if isStream, let message = try? framer.next() { return message }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 10) > 0 else {
                await Task.yield()
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            if !isStream { return Array(buffer[..<count]) }
            framer.append(buffer[..<count])
        }
    }

    enum ClientError: Error { case socket, connect, send }
}

/// A request as a UA would send it, with a unique branch and Call-ID per `id`.
func request(
    _ method: String = "INVITE", to target: String = "sip:alice@example.org", id: Int = 1,
    transport: String = "UDP", port: Int = 5999, extra: [String] = []
) -> [UInt8] {
    let lines = [
        "\(method) \(target) SIP/2.0",
        "Via: SIP/2.0/\(transport) 127.0.0.1:\(port);branch=z9hG4bK-test-\(id);rport",
        "Max-Forwards: 70",
        "From: <sip:caller@example.net>;tag=caller-\(id)",
        "To: <\(target)>",
        "Call-ID: call-\(id)@test",
        "CSeq: \(id) \(method)",
        "Content-Length: 0",
    ] + extra
    return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
}
