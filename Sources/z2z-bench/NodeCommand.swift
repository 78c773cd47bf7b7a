import Foundation
import ArgumentParser
import Kademlia
import NIOPosix
import Primitives
import Transport

/// One DHT node over UDP, for cross-process tests and trying things by hand. Prints one
/// line per event: `listening <endpoint> <id>`, `bootstrapped <contacts>`,
/// `put <name> <acks>/<attempted>`, `notify <name|key> <change>`.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "node", abstract: "Run one DHT node over UDP until killed.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "UDP port (0: any free port).") var port = 0
    @Option(help: "Network name; nodes of other networks are ignored.") var network = "z2z"
    @Option(help: "Derive the node's key from this number (same number, same id).") var keySeed: UInt64?
    @Option(help: "A node to join through, as a.b.c.d:port (repeatable).") var bootstrap: [String] = []
    @Option(help: "Publish name=value under namespace 'test' after joining (repeatable).") var put: [String] = []

    func run() async throws {
        let identity: Identity
        if let keySeed {
            var rng = Xoshiro256(seed: keySeed)
            identity = Identity(using: &rng)
        } else {
            identity = Identity()
        }
        let networkID = NetworkID(name: network)
        let peer = DHTPeer(identity: identity, configuration: Configuration(network: networkID), host: host, port: port)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await peer.run() }
            let endpoint = try await peer.endpoint
            emit("listening \(endpoint) \(identity.id.hex)")
            let contacts = try await peer.bootstrap(bootstrap.compactMap(Endpoint.init))
            emit("bootstrapped \(contacts)")
            for (n, item) in put.enumerated() {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                let key = RecordKey.make(network: networkID, namespace: "test", name: parts[0])
                let r = try await peer.put(identity.record(key: key, sequence: UInt64(n + 1), ttl: 3_600, payload: Array(parts[1].utf8)))
                emit("put \(parts[0]) \(r.acks)/\(r.attempted)")
            }
            try await group.next()
        }
    }
}

/// Prints a line and flushes at once, so a parent process reading the pipe sees it.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
