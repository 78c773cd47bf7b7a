import API
import Config
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import Z2ZAPI
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The API as z2zd runs it: a Service in a ServiceGroup, on a real loopback socket.
struct APIServerTests {
    @Test(.timeLimit(.minutes(1)))
    func servesOnLoopbackAndStopsWithItsServiceGroup() async throws {
        let source = StaticGatewayState(Fixture.snapshot)
        let server = try await RunningAPIServer.start(source: source, configuration: FixedConfiguration(Fixture.configuration))
        let url = URL(string: "http://127.0.0.1:\(server.port)/api/v1/status")!
        let (data, response) = try await URLSession.shared.data(from: url)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(try APIJSON.decoder().decode(StatusResponse.self, from: data) == Fixture.status)
        try await server.stop()
        await #expect(throws: (any Error).self) { _ = try await URLSession.shared.data(from: url) }
    }
}

/// What a browser page elsewhere would send, over a real socket (curl, which sends the
/// Host and Origin it is given).
struct APIServerGuardTests {
    static func curl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    @Test(.timeLimit(.minutes(1)))
    func aRebindingHostACrossSiteOriginAndAnOversizedBodyAreRefused() async throws {
        let server = try await RunningAPIServer.start(source: StaticGatewayState(Fixture.snapshot),
                                                      configuration: FixedConfiguration(Fixture.configuration))
        defer { Task { try? await server.stop() } }
        let base = "http://127.0.0.1:\(server.port)"
        #expect(try Self.curl(["\(base)/api/v1/status"]) == "200")
        #expect(try Self.curl(["-H", "Host: evil.example", "\(base)/api/v1/status"]) == "403")
        #expect(try Self.curl(["-H", "Origin: http://evil.example", "-H", "Content-Type: text/plain",
                               "--data-binary", "x = 1", "\(base)/api/v1/config/check"]) == "403")
        #expect(try Self.curl(["-H", "Content-Type: text/plain", "--data-binary", "x = 1", "\(base)/api/v1/config/check"]) == "200")
        let large = "# " + String(repeating: "a", count: 70 * 1024)
        #expect(try Self.curl(["-H", "Content-Type: text/plain", "--data-binary", large, "\(base)/api/v1/config/check"]) == "413")
    }
}

/// An `APIServer` on 127.0.0.1 with a kernel-chosen port, in its own ServiceGroup.
struct RunningAPIServer {
    let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(source: any GatewayStateSource, configuration: any RunningConfiguration) async throws -> RunningAPIServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = APIServer(host: "127.0.0.1", port: 0, source: source, configuration: configuration,
                               logger: Logger(label: "test.api")) { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test.group")))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return RunningAPIServer(port: port, group: group, task: task)
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
