import Kademlia
import NIOCore
import NIOPosix
import Primitives
import Testing
@testable import Relay

/// A leader behind NAT (node 1: its relay server does not listen, so nobody can dial it)
/// exporting `exports` to the importing leader (node 2), whose own relay server exports
/// nothing but takes reverse tunnels into the directory its importer shares. Nothing is
/// dialled out until a test says so (`dialOut`).
struct ReverseHarness: ClosingHarness {
    /// The NATed leader's relay, serving its exports over the tunnels it dials out.
    let natted: RelayExporter
    /// The importing leader's relay server, which the NATed leader dials out to.
    let server: RelayExporter
    let importer: RelayImporter
    let directory: TunnelDirectory
    /// The NATed leader as the importer knows it: its id and an address nobody listens on.
    let nattedLeader: RelayLeader
    /// The importing leader as the NATed one dials it.
    let importingLeader: RelayLeader

    static func start(exports: [ServiceRef: [Endpoint]], nattedKey: NetworkKey? = Fixture.key,
                      limits: RelayLimits = RelayLimits()) async throws -> ReverseHarness {
        let allowed = Harness.importerIdentity.id
        let natted = RelayExporter(Fixture.settings(Harness.exporterIdentity, key: nattedKey, limits: limits)) { requester, service in
            guard requester == allowed else { return .failure(.notExported) }
            guard let endpoints = exports[service] else { return .failure(.unknownService) }
            return .success(endpoints)
        }
        let directory = TunnelDirectory()
        let importing = Fixture.settings(Harness.importerIdentity, key: Fixture.key, limits: limits)
        let server = RelayExporter(importing, directory: directory) { _, _ in .failure(.unknownService) }
        let endpoint = try await server.start(on: Endpoint(ipv4: 127, 0, 0, 1, port: 0))
        let importer = RelayImporter(importing, directory: directory)
        return ReverseHarness(natted: natted, server: server, importer: importer, directory: directory,
                              nattedLeader: RelayLeader(id: Harness.exporterIdentity.id, endpoint: try await unlistenedEndpoint()),
                              importingLeader: RelayLeader(id: Harness.importerIdentity.id, endpoint: endpoint))
    }

    /// The NATed leader dials the importing one.
    @discardableResult
    func dialOut() async throws -> ReverseTunnel {
        try await natted.dialOut(to: importingLeader)
    }

    /// Relays `service` of the NATed leader on a fresh port on 127.0.0.1 and ::1.
    func listen(_ service: ServiceRef) async throws -> UInt16 {
        try await importer.listen(for: service, via: nattedLeader, on: [loopbackV4, loopbackV6])
    }

    func close() async {
        await importer.shutdown()
        await server.shutdown()
        await natted.shutdown()
    }
}

/// Runs `body` with a started reverse harness and always shuts it down.
func withReverseHarness(exports: [ServiceRef: [Endpoint]], nattedKey: NetworkKey? = Fixture.key,
                        limits: RelayLimits = RelayLimits(), _ body: (ReverseHarness) async throws -> Void) async throws {
    let harness = try await ReverseHarness.start(exports: exports, nattedKey: nattedKey, limits: limits)
    try await closing(harness, body)
}

/// An endpoint on 127.0.0.1 where nothing listens (a port bound and closed at once): a
/// leader behind NAT, as those who would dial it see it.
func unlistenedEndpoint() async throws -> Endpoint {
    let probe = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
    let port = try #require(probe.localAddress?.port)
    try await probe.close()
    return Endpoint(ipv4: 127, 0, 0, 1, port: UInt16(port))
}
