import Kademlia
import NIOCore
import Primitives
@testable import Relay

/// An exporting leader (node 1) and an importing leader (node 2) on loopback, the
/// exporter authorizing `exports` for the importer only.
struct Harness: ClosingHarness {
    let exporter: RelayExporter
    let importer: RelayImporter
    let leader: RelayLeader

    static let exporterIdentity = Fixture.identity(1)
    static let importerIdentity = Fixture.identity(2)

    /// - Parameters:
    ///   - expectedLeader: the node id the importer believes the exporting leader has.
    static func start(exports: [ServiceRef: [Endpoint]],
                      exporterKey: NetworkKey? = Fixture.key, importerKey: NetworkKey? = Fixture.key,
                      importer importerIdentity: Identity = importerIdentity, expectedLeader: NodeID? = nil,
                      exporterLimits: RelayLimits = RelayLimits(), importerLimits: RelayLimits = RelayLimits(),
                      port: UInt16 = 0) async throws -> Harness {
        let allowed = importerIdentity.id
        let exporter = RelayExporter(Fixture.settings(exporterIdentity, key: exporterKey, limits: exporterLimits)) { requester, service in
            guard requester == allowed else { return .failure(.notExported) }
            guard let endpoints = exports[service] else { return .failure(.unknownService) }
            return .success(endpoints)
        }
        let endpoint = try await exporter.start(on: Endpoint(ipv4: 127, 0, 0, 1, port: port))
        let importer = RelayImporter(Fixture.settings(importerIdentity, key: importerKey, limits: importerLimits))
        return Harness(exporter: exporter, importer: importer,
                       leader: RelayLeader(id: expectedLeader ?? exporterIdentity.id, endpoint: endpoint))
    }

    /// Relays `service` on a fresh port on 127.0.0.1 and ::1.
    func listen(_ service: ServiceRef) async throws -> UInt16 {
        try await importer.listen(for: service, via: leader, on: [loopbackV4, loopbackV6])
    }

    func close() async {
        await importer.shutdown()
        await exporter.shutdown()
    }
}

/// A harness of started relay parts that `close()` shuts down.
protocol ClosingHarness {
    func close() async
}

/// Runs `body` with `harness` and closes it afterwards, also when `body` throws.
func closing<H: ClosingHarness>(_ harness: H, _ body: (H) async throws -> Void) async throws {
    do {
        try await body(harness)
    } catch {
        await harness.close()
        throw error
    }
    await harness.close()
}

/// Runs `body` with a started harness and always shuts it down.
func withHarness(exports: [ServiceRef: [Endpoint]],
                 exporterKey: NetworkKey? = Fixture.key, importerKey: NetworkKey? = Fixture.key,
                 expectedLeader: NodeID? = nil,
                 exporterLimits: RelayLimits = RelayLimits(), importerLimits: RelayLimits = RelayLimits(),
                 _ body: (Harness) async throws -> Void) async throws {
    let harness = try await Harness.start(exports: exports, exporterKey: exporterKey, importerKey: importerKey,
                                          expectedLeader: expectedLeader,
                                          exporterLimits: exporterLimits, importerLimits: importerLimits)
    try await closing(harness, body)
}

extension RelayExporter {
    /// Tunnels open now (tests check that streams share one).
    var tunnelCount: Int { state.withLock { $0.tunnels.count } }
}
