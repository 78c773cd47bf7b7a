import Foundation
import SIP
import SIPServer
import Testing

/// Drives the server with a real SIP stack: sipp (Debian's sip-tester) as the caller, running
/// Deploy/sipp/uac-redirect.xml on loopback (INVITE, expect 302, ACK). Skipped without sipp.
@Suite(.serialized) struct SippTests {
    static let sipp = ["/usr/bin/sipp", "/usr/local/bin/sipp"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test(.enabled(if: sipp != nil, "sipp is not installed (Debian package sip-tester)"),
          .timeLimit(.minutes(1)), arguments: ["u1", "t1"])
    func sippCallerIsRedirectedForEveryCall(transport: String) async throws {
        let calls = 20
        try await SIPServerTests.withServer { server, udpPort, tcpPort in
            let port = transport == "u1" ? udpPort : tcpPort
            let (status, log) = try await Self.runSipp([
                "-sf", Self.repository.appendingPathComponent("Deploy/sipp/uac-redirect.xml").path,
                "-key", "domain", "example.org", "-s", "alice", "-t", transport,
                "-i", "127.0.0.1", "-m", String(calls), "-r", "50", "-l", "20",
                "-timeout", "20s", "-timeout_error", "-nostdin", "-trace_err",
                "127.0.0.1:\(port)",
            ])
            #expect(status == 0, "sipp exit status \(status): some calls did not get 302\n\(log)")
            // A slow answer makes sipp retransmit its INVITE (RFC 3261 timer A), and a
            // retransmission gets its 302 again: at least one 302 and one ACK per call.
            #expect((server.metrics.snapshot().responses[302] ?? 0) >= calls)
            // sipp exits once it has sent the last ACK, which the server may still be reading.
            let deadline = ContinuousClock.now + .seconds(5)
            while server.metrics.snapshot().acknowledgements < calls, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(server.metrics.snapshot().acknowledgements >= calls)
        }
    }

    /// Runs sipp in a scratch directory (it writes its traces there); returns its exit status and
    /// the end of its output and error trace, for the failure message.
    static func runSipp(_ arguments: [String]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(sipp))
        process.arguments = arguments
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("z2z-sipp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        process.currentDirectoryURL = scratch
        let output = scratch.appendingPathComponent("sipp.out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        let (done, signal) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { signal.yield($0.terminationStatus) }
        try process.run()
        var status: Int32 = -1
        for await exit in done {
            status = exit
            break
        }
        var log = String(decoding: FileManager.default.contents(atPath: output.path) ?? Data(), as: UTF8.self)
        let traces = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? []
        for trace in traces where trace.hasSuffix("_errors.log") {
            log += String(decoding: FileManager.default.contents(atPath: scratch.appendingPathComponent(trace).path) ?? Data(), as: UTF8.self)
        }
        return (status, String(log.suffix(3000)))
    }
}
