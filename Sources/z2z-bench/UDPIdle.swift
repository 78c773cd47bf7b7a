import ArgumentParser
import Foundation
import Kademlia
import NIOPosix
import Primitives
import Transport

/// Idle maintenance over real UDP: N nodes in this process on 127.0.0.1 inside a network
/// namespace of their own, so the namespace's loopback counters (/proc/net/dev) count
/// exactly their datagrams. The command creates the namespace, re-runs itself inside it,
/// and deletes the namespace afterwards, also when the run fails or is interrupted.
struct UDPIdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udp-idle", abstract: "Idle maintenance bytes/s per node over real UDP in a private network namespace (needs root).")

    @Option(help: "Number of nodes (64-256 is what the issue asks for).") var nodes = 128
    @Option(help: "Minutes to let the overlay settle after the last join before measuring.") var settleMinutes: Double = 2
    @Option(help: "Minutes of the measuring window.") var minutes: Double = 11
    @Option(help: "Also write the figures as JSON to this file.") var json: String?
    @Flag(help: .hidden) var inside = false

    struct Figures: Codable {
        var nodes: Int
        var settleMinutes: Double
        var windowMinutes: Double
        var loBytes: Int
        var loPackets: Int
        /// Kernel bytes per node per second (lo counts 14 bytes of Ethernet header per packet).
        var kernelBytesPerNodePerSecond: Double
        /// The same without the Ethernet header: payload + 28 bytes IP/UDP, as the simulator counts.
        var ipBytesPerNodePerSecond: Double
        var packetsPerNodePerSecond: Double
        var messagesSent: [String: Int]
    }

    func run() async throws {
        if inside { return try await measure() }
        let namespace = "z2zbench-\(getpid())"
        let namespaces = try BenchNamespaces([namespace])
        defer { namespaces.close() }
        var arguments = ["netns", "exec", namespace, CommandLine.arguments[0], "dht", "udp-idle", "--inside",
                         "--nodes", "\(nodes)", "--settle-minutes", "\(settleMinutes)", "--minutes", "\(minutes)"]
        if let json { arguments += ["--json", json] }
        try shell("ip", arguments)
    }

    /// Runs inside the namespace.
    func measure() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let network = NetworkID(name: "udp-idle")
        var rng = Xoshiro256(seed: 1)
        let peers = (0..<nodes).map { _ in DHTPeer(identity: Identity(using: &rng), configuration: Configuration(network: network), group: group) }
        let wall = Date()
        let figures = try await withThrowingTaskGroup(of: Void.self) { tasks -> Figures in
            for p in peers { tasks.addTask { try await p.run() } }
            defer { tasks.cancelAll() }
            let seed = try await peers[0].endpoint
            _ = try await peers[0].bootstrap([])
            for p in peers.dropFirst() { _ = try await p.bootstrap([seed]) }
            emit("udp-idle: \(nodes) nodes joined in \(f(Date().timeIntervalSince(wall)))s; settling \(f(settleMinutes)) min")
            try await Task.sleep(for: .seconds(settleMinutes * 60))
            let before = try loCounters()
            var sentBefore: [Int] = Array(repeating: 0, count: 16)
            for p in peers { for (i, n) in try await p.snapshot().counters.sent.enumerated() { sentBefore[i] += n } }
            emit("udp-idle: measuring \(f(minutes)) min")
            try await Task.sleep(for: .seconds(minutes * 60))
            let after = try loCounters()
            var sent: [String: Int] = [:]
            var sentAfter: [Int] = Array(repeating: 0, count: 16)
            for p in peers { for (i, n) in try await p.snapshot().counters.sent.enumerated() { sentAfter[i] += n } }
            for kind in MessageKind.allCases where sentAfter[Int(kind.rawValue)] > sentBefore[Int(kind.rawValue)] {
                sent[kind.name] = sentAfter[Int(kind.rawValue)] - sentBefore[Int(kind.rawValue)]
            }
            let bytes = after.bytes - before.bytes, packets = after.packets - before.packets
            let seconds = minutes * 60, n = Double(nodes)
            return Figures(
                nodes: nodes, settleMinutes: settleMinutes, windowMinutes: minutes, loBytes: bytes, loPackets: packets,
                kernelBytesPerNodePerSecond: Double(bytes) / n / seconds,
                ipBytesPerNodePerSecond: Double(bytes - 14 * packets) / n / seconds,
                packetsPerNodePerSecond: Double(packets) / n / seconds, messagesSent: sent)
        }
        try await group.shutdownGracefully()
        emit("udp-idle at \(nodes) nodes: \(f(figures.ipBytesPerNodePerSecond, 2)) B/s per node (payload + 28 B IP/UDP; \(f(figures.kernelBytesPerNodePerSecond, 2)) B/s as lo counts it, with 14 B Ethernet) [target <= 30 B/s]")
        try Report("udp-idle", seed: 1, wallSeconds: Date().timeIntervalSince(wall), figures: figures).emit(json: json)
    }

    /// Transmitted bytes and packets of this namespace's loopback.
    func loCounters() throws -> (bytes: Int, packets: Int) {
        let text = try String(contentsOfFile: "/proc/net/dev", encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("lo:") }) else {
            throw ValidationError("no lo in /proc/net/dev")
        }
        let fields = line.split(separator: ":")[1].split(separator: " ").compactMap { Int($0) }
        // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets ...
        return (fields[8], fields[9])
    }
}

/// Runs a command from PATH, failing when it fails.
@discardableResult
func shell(_ command: String, _ arguments: String...) throws -> Int32 { try shell(command, arguments) }

@discardableResult
func shell(_ command: String, _ arguments: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [command] + arguments
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw ValidationError("\(command) \(arguments.joined(separator: " ")) exited \(p.terminationStatus)") }
    return p.terminationStatus
}

/// A benchmark's network namespaces, each with `lo` up; deleted by `close()`, and on Ctrl-C
/// or SIGTERM before the process exits.
final class BenchNamespaces {
    let names: [String]
    private var sources: [DispatchSourceSignal] = []

    init(_ names: [String]) throws {
        self.names = names
        let cleanup = { for name in names { _ = try? shell("ip", "netns", "delete", name) } }
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            s.setEventHandler { cleanup(); Foundation.exit(130) }
            s.resume()
            return s
        }
        do {
            for name in names {
                try shell("ip", "netns", "add", name)
                try shell("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
            }
        } catch {
            close()
            throw error
        }
    }

    func close() {
        sources.forEach { $0.cancel() }
        sources = []
        for name in names { _ = try? shell("ip", "netns", "delete", name) }
    }
}
