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
