import ArgumentParser
import DHTRendezvous
import DNSSD
import Foundation
import Gateway
import Island
import Kademlia
import Logging
import NIOCore
import Primitives
import Transport

/// `z2z-load`: a stand-in island for load tests and benchmarks. It joins the DHT the way a
/// leader does and exports N services, spread over types because one owner may hold at most
/// `Limits.maxValuesPerOwnerPerKey` values under one key. No Avahi is involved: the point is
/// what a real gateway that imports them costs.
@main
struct Z2ZLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "z2z-load",
        abstract: "A stand-in island that exports N services through the DHT, for load tests.",
        discussion: """
            Joins the network's DHT through --bootstrap (a gateway's HOST:PORT), publishes an \
            island directory entry and N service records (--per-type of each type \
            _zloadK._tcp), prints "exported N" and keeps them alive until SIGINT or SIGTERM.
            """)

    @Option(help: "Network name of the gateways to load.") var network = "z2z"
    @Option(help: "UDP port to listen on (0: any).") var port = 0
    @Option(help: ArgumentHelp("A gateway to join through; repeatable.", valueName: "host:port")) var bootstrap: [String] = []
    @Option(help: "How many services to export.") var services = 1_000
    @Option(help: "Services per type (at most 128, the per-owner limit of one key).") var perType = 100
    @Option(help: "The address every service claims to be at.") var address = "192.0.2.10"
    @Option(help: "The island's name.") var island = "load"
    @Option(help: ArgumentHelp("The gateways' network key file (z2zd's --network-key-file); without it: open mode.", valueName: "file"))
    var networkKeyFile: String?

    func validate() throws {
        guard services >= 0 else { throw ValidationError("--services must be 0 or more") }
        guard (1...128).contains(perType) else { throw ValidationError("--per-type must be 1 to 128") }
        guard (try? IPAddress(address)) != nil else { throw ValidationError("--address \(address): not an IP address") }
        guard !bootstrap.isEmpty else { throw ValidationError("give at least one --bootstrap HOST:PORT") }
    }

    func run() async throws {
        let networkID = NetworkID(name: network)
        let identity = Identity()
        let seeds = try bootstrap.map { text -> Endpoint in
            guard let endpoint = Endpoint(text) else { throw ValidationError("--bootstrap \(text): not HOST:PORT") }
            return endpoint
        }
        var dht = Kademlia.Configuration(network: networkID)
        if let networkKeyFile {
            guard let text = FileManager.default.contents(atPath: networkKeyFile).flatMap({ String(data: $0, encoding: .utf8) }),
                  let key = NetworkKey(secret: Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8), network: networkID)
            else { throw ValidationError("--network-key-file \(networkKeyFile): unreadable, or shorter than 16 bytes") }
            dht.networkKey = key
        }
        let peer = DHTPeer(identity: identity, configuration: dht, host: "0.0.0.0", port: port)
        let rendezvous = KademliaRendezvous(peer: peer, seeds: seeds, wallClockMilliseconds: UInt64(Date().timeIntervalSince1970 * 1000))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await peer.run() }
            group.addTask { await rendezvous.run() }
            await rendezvous.join()
            while await rendezvous.stats().peers == 0 { try await Task.sleep(for: .milliseconds(100)) }
            var generator = SystemRandomNumberGenerator()
            let islandID = IslandID.random(using: &generator)
            let typeCount = (services + perType - 1) / perType
            let types = try (0..<typeCount).map { try ServiceType("_zload\($0)._tcp") }
            let entry = IslandDirectoryEntry(island: islandID, name: island, leader: identity.id, types: types, services: services)
            try await rendezvous.put(key: RecordKeys.directory(network: networkID), valueID: 0,
                                     payload: IslandDirectoryCodec.encode(entry))
            let started = ContinuousClock.now
            for index in 0..<services {
                let type = types[index / perType]
                let name = try InstanceName("Load \(index)")
                let record = ServiceRecord(island: islandID, islandName: island, name: name, type: type, port: 9000,
                                           txt: try TXTRecord(entries: [try TXTEntry(key: "n", text: "\(index)")]),
                                           addresses: [try IPAddress(address)], hostLabel: "load\(index % 16)")
                try await rendezvous.put(key: RecordKeys.type(type, network: networkID),
                                         valueID: RecordKeys.valueID(of: name, type: type),
                                         payload: ServiceRecordCodec.encode(record))
                if (index + 1) % 1_000 == 0 { say("put \(index + 1)") }
            }
            say("exported \(services) in \(started.duration(to: .now))")
            try await Task.sleep(for: .seconds(86_400))
            group.cancelAll()
        }
    }
}

/// A line on stdout at once (a pipe would buffer `print`).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
