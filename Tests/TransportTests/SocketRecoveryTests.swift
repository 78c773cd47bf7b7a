import Foundation
import Kademlia
import Primitives
import Testbed
import Testing
import Transport

/// NIO closes a datagram socket when a send fails with anything but EMSGSIZE or
/// EHOSTUNREACH (a host whose link is down gets ENETUNREACH for every send). The peer binds
/// its port again and goes on with the same node (RELIABILITY.md, finding 6). Real UDP on
/// 127.0.0.1; every wait is bounded.
@Suite(.serialized) struct SocketRecoveryTests {
    let network = NetworkID(name: "socket-recovery-test")

    func peer(_ n: UInt8) -> DHTPeer {
        DHTPeer(identity: try! Identity(seed: [UInt8](repeating: n, count: 32)), configuration: Configuration(network: network),
                seed: UInt64(n))
    }

    @Test func aPeerWhoseSendFailsBindsItsPortAgainAndKeepsItsMeshAndRecords() async throws {
        let (a, b) = (peer(201), peer(202))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in [a, b] { group.addTask { try await p.run() } }
            defer { group.cancelAll() }
            let before = try await a.endpoint
            _ = try await within(10, "b joins through a") { try await b.bootstrap([before]) }
            let key = RecordKey.make(network: network, namespace: "type", name: "_ipp._tcp")
            let first = a.identity.record(key: key, valueID: 1, sequence: 1, ttl: 600, payload: Array("before".utf8))
            #expect(try await within(10, "put before") { try await a.put(first) }.acks == 2)

            // A broadcast address without SO_BROADCAST: sendmsg fails with EACCES, which NIO
            // does not recover from; it closes the socket.
            a.sendSide(Array("z2zH".utf8), to: Endpoint(ipv4: 255, 255, 255, 255, port: 9))
            try await within(10, "the socket bound again") {
                while a.rebindCount == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(try await a.endpoint == before)
            // Same port, same node: the mesh and the records are still there, and stores flow both ways.
            let second = a.identity.record(key: key, valueID: 2, sequence: 2, ttl: 600, payload: Array("after".utf8))
            let put = try await within(10, "put after") {
                while true {
                    // A put made while the socket was down reaches only this node; ask until b acknowledges.
                    if let result = try? await a.put(second), result.acks == 2 { return result }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(put.acks == 2)
            let held = try await within(10, "b holds both") { try await b.get(key) }
            #expect(Set(held.map(\.payload)) == [Array("before".utf8), Array("after".utf8)])
            #expect(try await a.snapshot().members == 1)
        }
    }
}
