import Foundation
import NIOCore
import SIP
import SIPServer

/// `z2z-sip-bench`: redirect throughput and latency of `SIPServer` on loopback, driven by sipp.
///
/// `--mode proxy`: the server forwards each INVITE to the AoR's contact, sipp's built-in UAS
/// on 127.0.0.1 (`--uas-port`), and the call (`Deploy/sipp/uac-call-inf.xml`: INVITE, 200,
/// ACK, BYE) runs through it; RTD is INVITE sent → 200 received. `--mode direct` runs the
/// same call straight to the UAS (the baseline for the proxy's added latency), `--mode
/// register` REGISTERs (`Deploy/sipp/uac-register-inf.xml`) with the registrar.
///
/// Starts the server on 127.0.0.1 with N AoRs in an in-memory table (no DHT: this measures the
/// parser, the redirect service and the NIO shell), then runs sipp's UAC scenario
/// `Deploy/sipp/uac-redirect-inf.xml` (INVITE → 302 → ACK, AoRs taken in turn from a user list)
/// at each rate for a fixed time, and prints the achieved redirects/s and the response-time
/// percentiles sipp measured (RTD 1: INVITE sent → 302 received, `-trace_rtt`).
@main
struct SIPBench {
    struct Options {
        var aors = 1_000
        var rates = [500, 1_000, 2_000, 3_000, 4_000]
        var seconds = 10
        var transport = "u1"
        var scenario: String?
        var sipp = "/usr/bin/sipp"
        var mode = "redirect"
        var uasPort = 5098
        /// `--mode direct` through another proxy on 127.0.0.1 (Kamailio, for comparison).
        var externalProxyPort: Int?

        var scenarioPath: String {
            if let scenario { return scenario }
            return switch mode {
            case "proxy", "direct": "Deploy/sipp/uac-call-inf.xml"
            case "register": "Deploy/sipp/uac-register-inf.xml"
            default: "Deploy/sipp/uac-redirect-inf.xml"
            }
        }

        static let usage = """
            usage: z2z-sip-bench [--aors N] [--rates R1,R2,...] [--seconds S] [--transport u1|t1]
                                 [--scenario FILE] [--sipp PATH] [--mode redirect|proxy|direct|register]
                                 [--uas-port N]
              --aors       AoRs in the lookup table (default 1000); calls cycle through them
              --rates      call rates in calls/s, one step each (default 500,1000,2000,3000,4000)
              --seconds    length of each step (default 10)
              --transport  sipp transport: u1 (UDP, default) or t1 (TCP, one connection)
              --mode       redirect (302, default), proxy (calls through the server to a sipp UAS),
                           direct (the same calls without the server), register (REGISTER)
              --uas-port   port of the sipp UAS for proxy and direct (default 5098)
              --external-proxy PORT   with --mode direct: send the calls through another proxy on
                           127.0.0.1:PORT instead (e.g. Kamailio forwarding to the UAS)
            Run from the repository root (the scenario path is relative to it).
            """

        init(_ arguments: [String]) throws {
            var rest = arguments[...]
            while let flag = rest.popFirst() {
                guard let value = rest.popFirst() else { throw BenchError.usage("\(flag) needs a value") }
                switch flag {
                case "--aors": aors = try Self.number(value, flag)
                case "--rates": rates = try value.split(separator: ",").map { try Self.number(String($0), flag) }
                case "--seconds": seconds = try Self.number(value, flag)
                case "--transport": transport = value
                case "--scenario": scenario = value
                case "--sipp": sipp = value
                case "--mode":
                    guard ["redirect", "proxy", "direct", "register"].contains(value) else { throw BenchError.usage("--mode: '\(value)'") }
                    mode = value
                case "--uas-port": uasPort = try Self.number(value, flag)
                case "--external-proxy": externalProxyPort = try Self.number(value, flag)
                default: throw BenchError.usage("unknown option \(flag)")
                }
            }
        }

        static func number(_ text: String, _ flag: String) throws -> Int {
            guard let value = Int(text), value > 0 else { throw BenchError.usage("\(flag): '\(text)' is not a positive number") }
            return value
        }
    }

    enum BenchError: Error, CustomStringConvertible {
        case usage(String)
        case sipp(String)
        var description: String {
            switch self {
            case .usage(let message): "\(message)\n\(Options.usage)"
            case .sipp(let message): message
            }
        }
    }

    struct Step {
        var rate: Int
        var calls: Int
        var redirects: Int
        var failed: Int
        var achieved: Double
        var p50: Double
        var p99: Double
        var maximum: Double
        var probeP50: Double
        var probeP99: Double
        var probeLost: Int
    }

    static func main() async {
        do {
            let options = try Options(Array(CommandLine.arguments.dropFirst()))
            try await run(options)
        } catch {
            FileHandle.standardError.write(Data("z2z-sip-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ options: Options) async throws {
        guard FileManager.default.isExecutableFile(atPath: options.sipp) else {
            throw BenchError.sipp("sipp not found at \(options.sipp) (Debian package sip-tester)")
        }
        let scenario = URL(fileURLWithPath: options.scenarioPath).standardizedFileURL
        let calling = options.mode == "proxy" || options.mode == "direct"
        var table: [SIPAddressOfRecord: [SIPContact]] = [:]
        for index in 0..<options.aors {
            let aor = SIPAddressOfRecord(user: "user\(index)", host: .name("example.org"))
            let host: SIPHost = calling ? .ipv4(0x7f00_0001) : .ipv4(0xc000_0200 | UInt32(index % 250 + 1))
            table[aor] = [SIPContact(uri: SIPURI(user: "user\(index)", host: host, port: calling ? UInt16(options.uasPort) : 5060))]
        }
        let lookupTable = table
        let transport: SIPSource.Transport = options.transport == "t1" ? .tcp : .udp
        // As z2zd runs it: the proxy and registrar roles on (the loopback is the link), no probes.
        let loopback = [SIPSubnet(network: .ipv4(0x7f00_0000), prefixLength: 8)]
        let routing = SIPRouting(
            mode: options.mode == "proxy" ? .proxy : .redirect, identity: SIPNodeIdentity(hosts: [.ipv4(0x7f00_0001)], port: 0),
            localNetworks: loopback,
            registrar: Registrar.Configuration(maximumAddressesOfRecord: max(1_024, options.aors), localNetworks: loopback))
        let server = SIPServer(
            configuration: SIPServerConfiguration(host: "127.0.0.1", port: 0, transports: [transport],
                                                  redirect: .init(routing: routing)),
            lookup: { lookupTable[$0] ?? [] })
        // The callee of proxy and direct calls: sipp's built-in UAS, for the whole run.
        var uas: Process?
        if calling {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: options.sipp)
            process.arguments = ["-sn", "uas", "-i", "127.0.0.1", "-p", String(options.uasPort), "-t", options.transport,
                                 "-buff_size", "4194304", "-nostdin", "-timer_resol", "1"]
            process.currentDirectoryURL = FileManager.default.temporaryDirectory
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            uas = process
        }
        // sipp does not end on SIGTERM while it waits for calls: the bench's own child gets SIGKILL.
        defer { if let uas, uas.isRunning { kill(uas.processIdentifier, SIGKILL) } }
        let (ready, readySignal) = AsyncStream.makeStream(of: SIPServerAddresses.self)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("z2z-sip-bench-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { if ProcessInfo.processInfo.environment["Z2Z_SIP_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(at: scratch) } }
        let users = scratch.appendingPathComponent("users.csv")
        try ("SEQUENTIAL\n" + (0..<options.aors).map { "user\($0)\n" }.joined()).write(to: users, atomically: true, encoding: .utf8)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run { readySignal.yield($0) } }
            var iterator = ready.makeAsyncIterator()
            guard let addresses = await iterator.next(), let port = (transport == .udp ? addresses.udp : addresses.tcp)?.port else {
                throw BenchError.sipp("server did not bind")
            }
            say("z2z-sip-bench: SIPServer on 127.0.0.1:\(port)/\(transport.rawValue), mode \(options.mode), \(options.aors) AoRs, \(options.seconds) s per step")
            say("                                                 sipp RTD (1 ms ticks)       probe (µs clock)")
            say("rate(calls/s)  calls  done  failed  achieved/s    p50(ms)  p99(ms)  max(ms)   p50(ms)  p99(ms)  lost")
            // What the server did per call: a 302, a forwarded INVITE (and its ACK, BYE and
            // three responses: 6 forwards), a REGISTER; direct calls do not touch it.
            func handled() -> Int {
                let metrics = server.metrics.snapshot()
                return switch options.mode {
                case "proxy": metrics.forwarded / 6
                case "register": metrics.registrations
                case "direct": 0
                default: metrics.responses[302] ?? 0
                }
            }
            let probing = transport == .udp && options.mode == "redirect"
            let target = options.mode == "direct" ? (options.externalProxyPort ?? options.uasPort) : port
            for rate in options.rates {
                let before = handled()
                let probe = LatencyProbe(port: port, user: "user0")
                if probing { probe.start() }
                let step = try await runStep(rate: rate, options: options, scenario: scenario, users: users, port: target,
                                             directory: scratch)
                let probed: (samples: [Double], lost: Int) = probing ? probe.stop() : ([], 0)
                let redirects = handled() - before - probed.samples.count
                let probeTimes = probed.samples.sorted()
                let row = Step(rate: rate, calls: step.calls, redirects: redirects, failed: step.failed,
                               achieved: step.achieved, p50: step.p50, p99: step.p99, maximum: step.maximum,
                               probeP50: percentile(probeTimes, 0.5), probeP99: percentile(probeTimes, 0.99),
                               probeLost: probed.lost)
                say(String(format: "%13d  %5d  %5d  %6d  %10.0f  %8.1f  %7.1f  %7.1f  %8.3f  %7.3f  %4d",
                           row.rate, row.calls, row.redirects, row.failed, row.achieved, row.p50, row.p99, row.maximum,
                           row.probeP50, row.probeP99, row.probeLost))
            }
            let metrics = server.metrics.snapshot()
            say("server: responses \(metrics.responses.sorted { $0.key < $1.key }), rejections \(metrics.rejections), ACKs \(metrics.acknowledgements), forwarded \(metrics.forwarded), registrations \(metrics.registrations)")
            group.cancelAll()
        }
    }

    /// Writes a line unbuffered, so each step shows up at once also when piped to a file.
    static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

    /// One sipp run at `rate` for `options.seconds`; reads its RTD trace.
    static func runStep(
        rate: Int, options: Options, scenario: URL, users: URL, port: Int, directory: URL
    ) async throws -> (calls: Int, failed: Int, achieved: Double, p50: Double, p99: Double, maximum: Double) {
        let calls = rate * options.seconds
        let stepDirectory = directory.appendingPathComponent("rate-\(rate)")
        try FileManager.default.createDirectory(at: stepDirectory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: options.sipp)
        process.currentDirectoryURL = stepDirectory
        process.arguments = [
            "-sf", scenario.path, "-inf", users.path, "-key", "domain", "example.org",
            "-t", options.transport, "-i", "127.0.0.1", "-r", String(rate), "-m", String(calls),
            "-l", String(max(rate, 100)), "-timer_resol", "1", "-buff_size", "4194304", "-nostdin", "-trace_rtt", "-rtt_freq", "1",
            "-trace_stat", "-fd", "1", "-timeout", "\(options.seconds * 3 + 10)s",
            "127.0.0.1:\(port)",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let (done, signal) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { signal.yield($0.terminationStatus) }
        try process.run()
        for await _ in done { break }

        let files = try FileManager.default.contentsOfDirectory(atPath: stepDirectory.path)
        var times: [Double] = []
        var stamps: [Double] = []
        for file in files where file.hasSuffix("_rtt.csv") {
            let text = try String(contentsOf: stepDirectory.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ";")
                guard fields.count >= 2, let stamp = Double(fields[0]), let time = Double(fields[1]) else { continue }
                stamps.append(stamp)
                times.append(time)
            }
        }
        var failed = calls - times.count
        for file in files where file.hasSuffix(".csv") && !file.hasSuffix("_rtt.csv") {
            // The statistics file's last line has FailedCall(C); prefer it when present.
            let text = try String(contentsOf: stepDirectory.appendingPathComponent(file), encoding: .utf8)
            let lines = text.split(separator: "\n")
            if let header = lines.first?.split(separator: ";", omittingEmptySubsequences: false),
               let last = lines.last?.split(separator: ";", omittingEmptySubsequences: false),
               let column = header.firstIndex(of: "FailedCall(C)"), column < last.count, let value = Int(last[column]) {
                failed = value
            }
        }
        times.sort()
        let span = ((stamps.max() ?? 0) - (stamps.min() ?? 0)) / 1000
        let achieved = span > 0 ? Double(times.count - 1) / span : 0
        return (calls, failed, achieved, percentile(times, 0.5), percentile(times, 0.99), times.last ?? .nan)
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[max(0, min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
    }
}
