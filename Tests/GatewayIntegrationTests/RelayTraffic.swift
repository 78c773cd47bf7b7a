import DNSSD
import Foundation
import Testbed

/// Real traffic for the relay tests, made by small python3 programs (standard library only)
/// on testbed hosts: a TCP server that streams a known file to each connection (or an
/// endless, paced stream), a UDP echo server, and the clients that fetch, echo and follow a
/// stream. Servers listen on IPv4 and IPv6 and print where each connection comes from, so a
/// test can tell a relayed connection (from the exporting leader) from a direct one.
enum RelayTraffic {
    /// What a client read: how many bytes, and their SHA-256 (hex).
    struct Received: Hashable, CustomStringConvertible {
        var bytes: Int
        var sha256: String

        init?(line: String) {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let bytes = Int(fields[fields.count - 2]) else { return nil }
            self.bytes = bytes
            self.sha256 = String(fields[fields.count - 1])
        }

        var description: String { "\(bytes) bytes, sha256 \(sha256.prefix(16))…" }
    }

    /// A TCP server on `host`:`port` that sends every connection `bytes` deterministic bytes
    /// and closes it; with `bytes` 0, 16 KiB every 10 ms until the connection goes. Returns it
    /// and what a client of it must read.
    static func fileServer(_ bed: Testbed, _ host: HostRef, port: Int, bytes: Int) async throws -> (BackgroundProcess, Received) {
        let server = try bed.spawn(host, ["python3", "-u", "-c", """
            import hashlib, socket, sys, threading, time
            port, size = int(sys.argv[1]), int(sys.argv[2])
            data = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range((size + 31) // 32))[:size]
            s = socket.socket(socket.AF_INET6)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", port)); s.listen(64)
            print("serving", size, hashlib.sha256(data).hexdigest())
            def serve(c):
                try:
                    if size:
                        c.sendall(data)
                    else:
                        while True:
                            c.sendall(b"z" * 16384); time.sleep(0.01)
                except OSError:
                    pass
                finally:
                    c.close()
            while True:
                c, a = s.accept()
                print("connection from", a[0].removeprefix("::ffff:"))
                threading.Thread(target=serve, args=(c,), daemon=True).start()
            """, String(port), String(bytes)])
        let line = try await server.waitForLine(containing: "serving")
        guard let expected = Received(line: line) else { throw RelayTestFailure(what: "a file server's first line: \(line)") }
        return (server, expected)
    }

    /// A UDP server on `host`:`port` that sends every datagram back to where it came from.
    static func echoServer(_ bed: Testbed, _ host: HostRef, port: Int) async throws -> BackgroundProcess {
        let server = try bed.spawn(host, ["python3", "-u", "-c", """
            import socket, sys
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", int(sys.argv[1])))
            print("echoing")
            while True:
                data, address = s.recvfrom(65536); s.sendto(data, address)
            """, String(port)])
        try await server.waitForLine(containing: "echoing")
        return server
    }

    /// Connects from `host` to `address`:`port`, reads until the server closes, and says what
    /// arrived. Throws when the connection fails or stalls for `timeout` seconds, saying how
    /// (the client's last word: `ConnectionRefusedError: ...`, `TimeoutError: ...`).
    static func fetch(_ bed: Testbed, from host: HostRef, _ address: IPAddress, port: UInt16,
                      timeout: Double = 5) async throws -> Received {
        let result = try await bed.run(host, ["python3", "-c", """
            import hashlib, socket, sys
            c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
            h, n = hashlib.sha256(), 0
            while (b := c.recv(65536)):
                h.update(b); n += len(b)
            print(n, h.hexdigest())
            """, dialable(address), String(port), String(timeout)], timeout: .seconds(timeout + 10))
        guard result.succeeded else {
            let why = result.stderr.split(separator: "\n").last.map(String.init) ?? "exit \(result.exitCode)"
            throw RelayTestFailure(what: "fetch from \(host) of \(address) port \(port): \(why)")
        }
        guard let received = Received(line: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw RelayTestFailure(what: "a fetch's answer: \(result.stdout)")
        }
        return received
    }

    /// Sends `count` datagrams from `host` to `address`:`port`, one at a time, each waiting up
    /// to a second for its echo; returns how many came back intact.
    static func echo(_ bed: Testbed, from host: HostRef, _ address: IPAddress, port: UInt16, count: Int) async throws -> Int {
        let output = try await bed.runChecked(host, ["python3", "-c", """
            import socket, sys
            host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
            s = socket.socket(family, kind, proto); s.settimeout(1.0); s.connect(address)
            echoed = 0
            for i in range(count):
                message = b"echo %d " % i + bytes(200)
                s.send(message)
                try:
                    while s.recv(65536) != message:
                        pass
                    echoed += 1
                except OSError:
                    pass
            print(echoed)
            """, dialable(address), String(port), String(count)], timeout: .seconds(Double(count) + 15))
        guard let echoed = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw RelayTestFailure(what: "an echo client's answer: \(output)")
        }
        return echoed
    }

    /// A client on `host` that follows the stream at `address`:`port`: it prints "streaming N"
    /// whenever another 64 KiB have arrived (N bytes so far) and "closed N" when the
    /// connection ends.
    static func follow(_ bed: Testbed, from host: HostRef, _ address: IPAddress, port: UInt16) throws -> BackgroundProcess {
        try bed.spawn(host, ["python3", "-u", "-c", """
            import socket, sys
            c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
            n = 0
            try:
                while (b := c.recv(65536)):
                    if (n + len(b)) // 65536 > n // 65536:
                        print("streaming", n + len(b))
                    n += len(b)
                print("closed", n)
            except OSError as e:
                print("closed", n, type(e).__name__)
            """, dialable(address), String(port)])
    }

    /// The address as a socket call on a testbed host takes it: fe80 addresses on its eth0.
    static func dialable(_ address: IPAddress) -> String {
        let text = address.description
        return text.lowercased().hasPrefix("fe80:") && !text.contains("%") ? text + "%eth0" : text
    }
}
