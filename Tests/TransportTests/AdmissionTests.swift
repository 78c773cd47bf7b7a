import Foundation
import Kademlia
import Primitives
import Testbed
import Testing
import Transport

/// Admission over real UDP on 127.0.0.1: three gateways share the network key; a node with
/// no key and a node with a wrong key try to join through them and store a record. Every
/// wait is bounded.
@Suite(.serialized) struct AdmissionTests {
    let network = NetworkID(name: "admission-test")

    func peer(_ n: UInt8, secret: String?) -> DHTPeer {
        var configuration = Configuration(network: network)
        configuration.structureThreshold = 2
        configuration.networkKey = secret.flatMap { NetworkKey(secret: Array($0.utf8), network: network) }
        return DHTPeer(identity: try! Identity(seed: [UInt8](repeating: n, count: 32)), configuration: configuration, seed: UInt64(n))
    }

    @Test func nodesWithoutTheNetworkKeyCannotJoinOrStore() async throws {
        let secret = "the members' shared secret"
        let members = (1...3).map { peer(UInt8(120 + $0), secret: secret) }
        let open = peer(130, secret: nil)
        let stranger = peer(131, secret: "a guess at the members' secret")
        let intruders = [open, stranger]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in members + intruders { group.addTask { try await p.run() } }
            defer { group.cancelAll() }
            let seed = try await members[0].endpoint
            try await within(20, "members form") {
                _ = try await members[0].bootstrap([])
                for p in members.dropFirst() { _ = try await p.bootstrap([seed]) }
            }
            let key = RecordKey.make(network: network, namespace: "type", name: "_ipp._tcp")
            let honest = members[1].identity.record(key: key, sequence: 1, ttl: 600, payload: Array("printer".utf8))
            #expect(try await within(10, "member put") { try await members[1].put(honest) }.acks == 3)

            for intruder in intruders {
                let contacts = try await within(20, "intruder bootstrap") { try await intruder.bootstrap([seed]) }
                #expect(contacts == 0, "no member answered")
                let forged = intruder.identity.record(key: key, sequence: 1, ttl: 600, payload: Array("rogue printer".utf8))
                let put = try await within(20, "intruder put") { try await intruder.put(forged) }
                #expect(put.acks <= 1, "at most its own store: \(put)")
                let got = try await within(20, "intruder get") { try await intruder.get(key) }
                #expect(!got.contains(honest), "the intruder reads nothing of the members'")
            }
            // Store frames sent straight at every member, bypassing the intruders' empty tables.
            let stores = [(open, WireCodec()), (stranger, WireCodec(key: NetworkKey(secret: Array("a guess at the members' secret".utf8), network: network)))]
            var endpoints: [Endpoint] = []
            for member in members { endpoints.append(try await member.endpoint) }
            for (intruder, codec) in stores {
                let forged = intruder.identity.record(key: key, sequence: 2, ttl: 600, payload: Array("rogue printer".utf8))
                let frame = codec.encode(Message(header: MessageHeader(network: network, sender: intruder.id, transaction: 7),
                                                 body: .store(RecordCopy(record: forged, remaining: 600))))
                for endpoint in endpoints { intruder.sendSide(frame, to: endpoint) }
            }
            // Give late datagrams time to arrive before looking (they are refused on arrival).
            try await Task.sleep(for: .milliseconds(500))
            var refused: [String: Int] = [:]
            for member in members {
                let snapshot = try await member.snapshot()
                #expect(snapshot.contacts == 2, "only the other members are in the table")
                #expect(try await member.contacts().allSatisfy { c in members.contains { $0.id == c.id } })
                #expect(snapshot.values <= 1, "the honest record at most: 0 records accepted from intruders")
                refused.merge(snapshot.refusals) { $0 + $1 }
            }
            for member in members {
                let values = try await within(10, "member get") { try await member.get(key) }
                #expect(values.map(\.asPut) == [honest.asPut], "the members see exactly the honest record")
            }
            #expect(refused["missing_tag", default: 0] > 0, "the open node's datagrams: \(refused)")
            #expect(refused["bad_tag", default: 0] > 0, "the wrong key's datagrams: \(refused)")
            let intruderRefusals = try await open.snapshot().refusals
            #expect(intruderRefusals["unexpected_tag", default: 0] == 0, "members never answered, so nothing tagged reached it")
        }
    }
}
