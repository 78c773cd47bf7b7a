import Kademlia
import Primitives
import Testing

/// Behind NAT (`DHTNode+NATMappings`), on virtual time: node 1 sits behind a NAT that
/// forgets an idle mapping after 30 s (`TestNetwork.nat`); node 0 does not.
@Suite struct NATMappingTests {
    let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")
    let outside = Endpoint.Address.v4(0x0A00_0002)
    let host = Endpoint.Address.v4(0x7F00_0001)

    func network(keepalive: Interval = .seconds(15)) -> TestNetwork {
        var net = TestNetwork(count: 2) { $0.structureThreshold = 16; $0.natKeepalive = keepalive }
        net.nat[1] = (outside, .seconds(30))
        for i in 0..<2 { net.command(i, .hostAddresses([host])) }
        for i in 0..<2 { net.command(i, .subscribe(RequestID(UInt64(10 + i)), key)) }
        net.form()
        return net
    }

    func pingsSent(_ node: DHTNode) -> Int { node.counters.sent[Int(MessageKind.ping.rawValue)] }

    @Test func aNodeLearnsItIsBehindNATFromWhereAMemberSeesIt() {
        let net = network()
        #expect(net.nodes[1].behindNAT)
        #expect(net.nodes[1].observedEndpoint?.address == outside)
        #expect(!net.nodes[0].behindNAT, "seen at its own address")
    }

    @Test func aNodeBehindNATKeepsItsMappingOpenSoAChangeAfterAQuietSpellArrivesAtOnce() {
        var net = network()
        let pingsBefore = pingsSent(net.nodes[0])
        net.run(for: .minutes(10))
        #expect(pingsSent(net.nodes[0]) - pingsBefore <= 2, "the node not behind NAT sends no keepalives (a member probe at most)")
        let record = net.nodes[0].identity.record(key: key, sequence: 1, ttl: 3_600, payload: [0])
        net.command(0, .put(RequestID(20), record))
        net.run(for: .seconds(1))
        #expect(net.notifications.contains { $0.node == 1 && $0.notification.change == .new(record) })
    }

    @Test func withoutKeepalivesTheChangeWaitsBehindTheClosedMapping() {
        var net = network(keepalive: .minutes(5))
        net.run(for: .minutes(3))
        let record = net.nodes[0].identity.record(key: key, sequence: 1, ttl: 3_600, payload: [0])
        net.command(0, .put(RequestID(20), record))
        net.run(for: .seconds(1))
        #expect(!net.notifications.contains { $0.node == 1 && $0.notification.change == .new(record) }, "the model's NAT bites")
    }

    @Test func aNodeThatDoesNotKnowItsHostsAddressesAssumesNoNAT() {
        var net = TestNetwork(count: 2) { $0.structureThreshold = 16 }
        net.nat[1] = (outside, .seconds(30))
        net.form()
        #expect(net.nodes[1].observedEndpoint?.address == outside)
        #expect(!net.nodes[1].behindNAT)
    }
}
