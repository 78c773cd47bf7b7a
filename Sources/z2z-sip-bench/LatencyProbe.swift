import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The bench's own timing: while sipp carries the load, a thread sends one INVITE every
/// `interval` from its own UDP socket and times each 302 with the monotonic clock.
///
/// sipp records response times in whole milliseconds, ticked by its event loop; the probe
/// measures the same path (loopback UDP, parse, lookup, answer) with microsecond resolution.
final class LatencyProbe: @unchecked Sendable {
    private let port: Int
    private let user: String
    private let interval: Duration
    private let lock = NSLock()
    private var samples: [Double] = []   // milliseconds
    private var lost = 0
    private var running = true
    private let finished = DispatchSemaphore(value: 0)

    init(port: Int, user: String, interval: Duration = .milliseconds(10)) {
        self.port = port
        self.user = user
        self.interval = interval
    }

    func start() {
        let thread = Thread { [self] in
            measure()
            finished.signal()
        }
        thread.start()
    }

    /// Stops the probe and returns its round-trip times (ms) and how many got no answer within 1 s.
    func stop() -> (samples: [Double], lost: Int) {
        lock.withLock { running = false }
        finished.wait()
        return lock.withLock { (samples, lost) }
    }

    private func measure() {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard socket >= 0 else { return }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var sequence = 0
        let clock = ContinuousClock()
        var next = clock.now
        while lock.withLock({ running }) {
            sequence += 1
            let message = Array("""
                INVITE sip:\(user)@example.org SIP/2.0\r
                Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-probe-\(sequence);rport\r
                Max-Forwards: 70\r
                From: <sip:probe@example.net>;tag=probe\r
                To: <sip:\(user)@example.org>\r
                Call-ID: probe-\(sequence)@z2z-sip-bench\r
                CSeq: \(sequence) INVITE\r
                Content-Length: 0\r
                \r

                """.utf8)
            let sent = clock.now
            _ = message.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
            let marker = Array("CSeq: \(sequence) INVITE".utf8)
            var answered = false
            while clock.now - sent < .seconds(1) {
                var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { continue }
                let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { continue }
                // Only the answer to this probe counts (a late answer to an earlier one is skipped).
                if buffer[..<count].firstRange(of: marker) != nil {
                    let elapsed = clock.now - sent
                    let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                    lock.withLock { samples.append(milliseconds) }
                    answered = true
                    break
                }
            }
            if !answered { lock.withLock { lost += 1 } }
            next += interval
            let wait = next - clock.now
            if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.attoseconds) / 1e18 + Double(wait.components.seconds)) }
        }
    }
}
