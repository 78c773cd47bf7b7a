import Primitives
import DNSSD
import Gateway
import Kademlia

/// One device service per island whose version a scenario changes — the island, failover
/// and fault scenarios' "export" — over whole gateways (`GatewayNetwork`): version `v` is
/// the service with TXT `v=<v>`, version 0 the service withdrawn. An island *sees* another's
/// export at a version when its link shows the import with that content.
final class VersionedExports {
    let world: GatewayNetwork
    private let catalogue: ServiceCatalogue
    /// Per island: the export's version now (0: withdrawn).
    private(set) var versions: [Int] = []
    private var services: [ServiceInstance] = []

    init(world: GatewayNetwork, types: Int) {
        self.world = world
        self.catalogue = ServiceCatalogue(types: types)
    }

    var simulation: Simulation { world.simulation }

    /// Adds an island exporting version 1, its gateways booting at `bootTimes`.
    @discardableResult
    func addIsland(bootTimes: [Instant]) -> Int {
        let island = world.islands.count
        let service = catalogue.service(island: island, number: 0, type: island % catalogue.types.count, unique: true)
        services.append(service)
        versions.append(1)
        world.addIsland(name: "island-\(island)", bootTimes: bootTimes, devices: [service])
        return island
    }

    /// The island's device publishes version `version` (0: withdraws the service).
    func set(island: Int, version: Int) {
        versions[island] = version
        var service = services[island]
        if version == 0 {
            world.withdraw(device: service.id, on: island)
        } else {
            service.txt = catalogue.txt(island: island, number: 0, version: version)
            world.publish(device: service, on: island)
        }
    }

    /// Whether `observer`'s link shows `island`'s export at `version` (0: not at all).
    func sees(_ observer: Int, _ island: Int, version: Int) -> Bool {
        guard let key = world.importKey(of: services[island], on: island) else { return version == 0 }
        let verdict = world.ledger.verdict(key, observer: observer)
        return version == 0 ? verdict == nil : verdict == .good && versions[island] == version
    }

    /// Whether every island with a running leader shows every other island's export as it
    /// is now, and nothing else (islands with no leader import nothing and are left out).
    var everyViewEqualsTheTruth: Bool {
        world.presentIslands.allSatisfy { world.leaders(of: $0).isEmpty || world.importsAreWhole($0) }
    }

    /// For a view that differs: what it lacks and shows wrongly, for a few islands.
    func differences(limit: Int = 6) -> [String] {
        world.presentIslands.filter { !world.leaders(of: $0).isEmpty && !world.importsAreWhole($0) }.prefix(limit)
            .map { world.differences(of: $0) }
    }
}
