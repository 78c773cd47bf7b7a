import Foundation
import Kademlia
import Primitives
import Testbed
import Testing
import Transport

/// A node in another process (`z2z-bench node`) on loopback.
@Suite struct CrossProcessTests {
    /// The `z2z-bench` built next to this test bundle.
    static var benchPath: String? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("z2z-bench").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    @Test func aNodeInAnotherProcessServesWhatItPut() async throws {
        let path = try #require(Self.benchPath, "z2z-bench is built with the tests")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: path)
        child.arguments = ["node", "--network", "xproc", "--key-seed", "5", "--put", "hello=world"]
        let out = Pipe()
        child.standardOutput = out
        try child.run()
        defer { child.terminate(); child.waitUntilExit() }

        // Read its lines until it has put: "listening <endpoint> <id>", ..., "put hello 1/1".
        // A thread reads the pipe (a blocked read cannot be cancelled); the test polls.
        let output = LineCollector()
        let reader = Thread { output.read(out.fileHandleForReading) }
        reader.start()
        let lines = try await within(15, "child start") { () -> [String] in
            while true {
                let lines = output.lines
                if lines.contains(where: { $0.hasPrefix("put ") }) { return lines }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let listening = try #require(lines.first { $0.hasPrefix("listening ") }).split(separator: " ")
        let childEndpoint = try #require(Endpoint(String(listening[1])))
        #expect(lines.last == "put hello 1/1")

        let network = NetworkID(name: "xproc")
        let me = DHTPeer(identity: try Identity(seed: [UInt8](repeating: 9, count: 32)), configuration: Configuration(network: network))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await me.run() }
            defer { group.cancelAll() }
            let contacts = try await within(10, "bootstrap") { try await me.bootstrap([childEndpoint]) }
            #expect(contacts == 1)
            let got = try await within(10, "get") { try await me.get(RecordKey.make(network: network, namespace: "test", name: "hello")) }
            #expect(got.map { String(decoding: $0.payload, as: UTF8.self) } == ["world"])
            #expect(got.first?.owner.hex == String(listening[2]))
        }
    }
}

/// Collects a pipe's lines from a reader thread.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ""

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return buffer.split(separator: "\n").map(String.init)
    }

    func read(_ handle: FileHandle) {
        while true {
            let data = handle.availableData
            if data.isEmpty { return }
            lock.lock()
            buffer += String(decoding: data, as: UTF8.self)
            lock.unlock()
        }
    }
}
