import Kademlia
import NIOCore
import Primitives
import Testing
@testable import Relay

/// Three leaders on loopback for circuits: the importing leader B (node 2) cannot reach the
/// exporting leader C (node 1, behind NAT: its relay server listens nowhere), and both reach
/// the middle leader R (node 3). C exports `exports` to R's island only; R's relay server
/// takes C's reverse tunnel into its directory and forwards what its `circuit` policy
/// routes; B's importer relays C's services via R, as it would any leader's. Nothing is
/// dialled out until a test says so (`dialOut`).
struct CircuitHarness: ClosingHarness {
    static let middleIdentity = Fixture.identity(3)

    /// C: the NATed exporting leader.
    let natted: RelayExporter
    /// R: the middle leader's relay server, the only one listening.
    let middle: RelayExporter
    let directory: TunnelDirectory
    /// B: the importing leader.
    let importer: RelayImporter
    /// R as B and C dial it.
    let middleLeader: RelayLeader

    static func start(exports: [ServiceRef: [Endpoint]], middleLimits: RelayLimits = RelayLimits(),
                      importerLimits: RelayLimits = RelayLimits(), circuit: RelayExporter.Circuit? = nil) async throws -> CircuitHarness {
        let nattedID = Harness.exporterIdentity.id
        let allowed = middleIdentity.id
        let natted = RelayExporter(Fixture.settings(Harness.exporterIdentity, key: Fixture.key)) { requester, service in
            guard requester == allowed else { return .failure(.notExported) }
            guard let endpoints = exports[service] else { return .failure(.unknownService) }
            return .success(endpoints)
        }
        let directory = TunnelDirectory()
        let middle = RelayExporter(Fixture.settings(middleIdentity, key: Fixture.key, limits: middleLimits), directory: directory,
                                   circuit: circuit ?? { _, _ in .success(nattedID) }) { _, _ in .failure(.unknownService) }
        let endpoint = try await middle.start(on: Endpoint(ipv4: 127, 0, 0, 1, port: 0))
        let importer = RelayImporter(Fixture.settings(Harness.importerIdentity, key: Fixture.key, limits: importerLimits))
        return CircuitHarness(natted: natted, middle: middle, directory: directory, importer: importer,
                              middleLeader: RelayLeader(id: middleIdentity.id, endpoint: endpoint))
    }

    /// C dials R.
    @discardableResult
    func dialOut() async throws -> ReverseTunnel {
        try await natted.dialOut(to: middleLeader)
    }

    /// B relays `service` of C's island via R, on a fresh port on 127.0.0.1 and ::1.
    func listen(_ service: ServiceRef) async throws -> UInt16 {
        try await importer.listen(for: service, via: middleLeader, on: [loopbackV4, loopbackV6])
    }

    func close() async {
        await importer.shutdown()
        await middle.shutdown()
        await natted.shutdown()
    }
}

/// Runs `body` with a started circuit harness and always shuts it down.
func withCircuitHarness(exports: [ServiceRef: [Endpoint]], middleLimits: RelayLimits = RelayLimits(),
                        importerLimits: RelayLimits = RelayLimits(), circuit: RelayExporter.Circuit? = nil,
                        _ body: (CircuitHarness) async throws -> Void) async throws {
    let harness = try await CircuitHarness.start(exports: exports, middleLimits: middleLimits, importerLimits: importerLimits,
                                                 circuit: circuit)
    try await closing(harness, body)
}
