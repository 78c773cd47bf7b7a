import ArgumentParser
import Foundation
import Kademlia
import NIOPosix
import Primitives
import Transport

/// RELIABILITY.md, "Unauthenticated node": over real UDP on 127.0.0.1, `members` nodes share
/// a network key and hold records; an intruder without a key and one with a wrong key each
/// try to join through every member, to store `puts` records (through the DHT, and by
/// sending `store` frames straight to every member) and to read the members'. Prints what
/// they got: contacts, acknowledgements, records, and what the members refused.
struct UDPAdmissionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udp-admission",
        abstract: "Nodes without the network key try to join, store and read over real UDP on 127.0.0.1: what they get.")

    @Option(help: "Nodes holding the network key.") var members = 8
    @Option(help: "Records each intruder tries to store.") var puts = 20
    @Option(help: "Also write the figures as JSON to this file.") var json: String?

    struct Intruder: Codable {
        var name: String
        var contactsAfterBootstrap: Int
        var acksFromMembers: Int
        var membersRecordsRead: Int
    }

    struct Figures: Codable {
        var members: Int
        var puts: Int
        var intruders: [Intruder]
        /// Members' routing-table entries that are not members.
        var strangersInMemberTables: Int
        /// Records held by members under the keys the intruders wrote.
        var intruderRecordsAccepted: Int
        /// The same for the control (a node with the key): its records should all be held.
        var controlRecordsAccepted: Int
        var memberRefusals: [String: Int]
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let network = NetworkID(name: "udp-admission")
        let secret = Array("the members' shared network key".utf8)
        func peer(_ n: UInt8, key: [UInt8]?) -> DHTPeer {
            var configuration = Configuration(network: network)
            configuration.networkKey = key.flatMap { NetworkKey(secret: $0, network: network) }
            return DHTPeer(identity: try! Identity(seed: [UInt8](repeating: n, count: 32)), configuration: configuration, group: group, seed: UInt64(n))
        }
        let memberPeers = (1...members).map { peer(UInt8($0), key: secret) }
        let wrongKey = Array("a guess at the members' key".utf8)
        // The third does the same with the key: the control, showing that the attempts would work.
        let intruders = [("no key", peer(200, key: nil)), ("wrong key", peer(201, key: wrongKey)), ("control: the key", peer(202, key: secret))]
        let codecs = [WireCodec(), WireCodec(key: NetworkKey(secret: wrongKey, network: network)),
                      WireCodec(key: NetworkKey(secret: secret, network: network))]
        let figures = try await withThrowingTaskGroup(of: Void.self) { tasks -> Figures in
            for p in memberPeers + intruders.map(\.1) { tasks.addTask { try await p.run() } }
            defer { tasks.cancelAll() }
            var endpoints: [Endpoint] = []
            for p in memberPeers { endpoints.append(try await p.endpoint) }
            _ = try await memberPeers[0].bootstrap([])
            for p in memberPeers.dropFirst() { _ = try await p.bootstrap([endpoints[0]]) }
            let memberKey = RecordKey.make(network: network, namespace: "type", name: "_ipp._tcp")
            let honest = memberPeers[1].identity.record(key: memberKey, sequence: 1, ttl: 600, payload: Array("printer".utf8))
            _ = try await memberPeers[1].put(honest)

            var results: [Intruder] = []
            var intruderKeys: [RecordKey] = [], controlKeys: [RecordKey] = []
            for (index, ((name, intruder), codec)) in zip(intruders, codecs).enumerated() {
                let contacts = try await intruder.bootstrap(endpoints)
                var acks = 0
                for i in 0..<puts {
                    let key = RecordKey.make(network: network, namespace: "type", name: "_rogue\(index)-\(i)._tcp")
                    if index < 2 { intruderKeys.append(key) } else { controlKeys.append(key) }
                    let record = intruder.identity.record(key: key, sequence: 1, ttl: 600, payload: Array("rogue \(i)".utf8))
                    let put = try await intruder.put(record)
                    acks += max(0, put.acks - 1)  // its own store is not a member's
                    // And straight at every member, bypassing its own (empty) routing table.
                    let frame = codec.encode(Message(
                        header: MessageHeader(network: network, sender: intruder.id, transaction: UInt32(i)),
                        body: .store(RecordCopy(record: record, remaining: 600))))
                    for endpoint in endpoints { intruder.sendSide(frame, to: endpoint) }
                }
                let read = try await intruder.get(memberKey)
                results.append(Intruder(name: name, contactsAfterBootstrap: contacts, acksFromMembers: acks, membersRecordsRead: read.count))
                emit("udp-admission: intruder (\(name)): \(contacts) contacts after joining through all \(members) members, \(acks) acks from members for \(puts) puts, \(read.count) member records read")
            }
            try await Task.sleep(for: .seconds(1))
            let memberIDs = Set(memberPeers.map(\.id) + [intruders[2].1.id])
            var strangers = 0, accepted = 0, control = 0
            var refusals: [String: Int] = [:]
            for p in memberPeers {
                strangers += try await p.contacts().filter { !memberIDs.contains($0.id) }.count
                refusals.merge(try await p.snapshot().refusals) { $0 + $1 }
            }
            for key in intruderKeys { accepted += try await memberPeers[0].get(key).count }
            for key in controlKeys { control += try await memberPeers[0].get(key).count }
            return Figures(members: members, puts: puts, intruders: results, strangersInMemberTables: strangers,
                           intruderRecordsAccepted: accepted, controlRecordsAccepted: control, memberRefusals: refusals)
        }
        try await group.shutdownGracefully()
        emit("udp-admission: strangers in member tables \(figures.strangersInMemberTables) [target 0]; intruder records the members hold \(figures.intruderRecordsAccepted) [target 0] (control with the key: \(figures.controlRecordsAccepted) of \(puts)); refused by members: \(figures.memberRefusals.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        try Report("udp-admission", seed: 0, wallSeconds: 0, figures: figures).emit(json: json)
    }
}
