import DNSSD

#if canImport(Glibc)
import Glibc
#endif

/// A raw mDNS listener on a testbed host, beside its avahi-daemon: hears every datagram sent
/// to 224.0.0.251:5353 on the host's link and reads the goodbyes in it (PTR records with
/// TTL 0, RFC 6762 §10.1) with DNSSD's `MDNSGoodbyes`, the reader z2zd itself uses.
///
/// Avahi's tools do not show goodbyes (avahi-browse drops a record a second after one), so
/// a test that wants to know when a goodbye went out listens itself. The listener inside the
/// host is a few lines of Python that only receive and print (`<CLOCK_MONOTONIC seconds>
/// <datagram as hex>`): stamped where it was heard, compared with `Monotonic.seconds()`.
public final class GoodbyeListener: Sendable {
    /// One service said goodbye to, and when (CLOCK_MONOTONIC seconds).
    public struct Goodbye: Hashable, Sendable {
        public var at: Double
        public var service: ServiceID

        public init(at: Double, service: ServiceID) {
            self.at = at
            self.service = service
        }
    }

    private let process: BackgroundProcess

    /// Starts listening on `host` and returns once the socket has joined the group.
    public static func start(_ bed: Testbed, on host: HostRef, timeout: Duration = .seconds(10)) async throws -> GoodbyeListener {
        let process = try bed.spawn(host, ["python3", "-u", "-c", script, bed.address(of: host).v4])
        try await process.waitForLine(containing: "listening", timeout: timeout)
        return GoodbyeListener(process: process)
    }

    private init(process: BackgroundProcess) {
        self.process = process
    }

    /// Every goodbye heard so far, in the order heard.
    public var heard: [Goodbye] { process.output.flatMap(Self.goodbyes(inLine:)) }

    public func stop() async { await process.stop() }

    /// The goodbyes in one line of the listener's output; none for a line that is not a
    /// datagram or a datagram without goodbyes (a query, a malformed message).
    public static func goodbyes(inLine line: String) -> [Goodbye] {
        let fields = line.split(separator: " ")
        guard fields.count == 2, let at = Double(fields[0]), let datagram = bytes(hex: fields[1]),
              case .success(let services) = MDNSGoodbyes.services(in: datagram)
        else { return [] }
        return services.map { Goodbye(at: at, service: $0) }
    }

    private static func bytes(hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Binds 5353 beside avahi-daemon (SO_REUSEPORT), joins the group on the host's address.
    static let script = #"""
        import socket, sys, time
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("", 5353))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("224.0.0.251") + socket.inet_aton(sys.argv[1]))
        print("listening", flush=True)
        while True:
            b, _ = s.recvfrom(9000)
            print(f"{time.clock_gettime(time.CLOCK_MONOTONIC):.6f} {b.hex()}", flush=True)
        """#
}

/// CLOCK_MONOTONIC, the clock the same on every namespace of the machine: what processes
/// inside testbed hosts stamp their lines with (`GoodbyeListener`).
public enum Monotonic {
    /// Now, in seconds.
    public static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
