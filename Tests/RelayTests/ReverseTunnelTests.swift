import Foundation
import NIOCore
import NIOPosix
import NIOSSH
import Primitives
import Testbed
import Testing
@testable import Relay

/// Reverse tunnels over real sockets on loopback: an exporting leader that nobody can dial
/// (its relay server does not listen, as behind a masquerading NAT) dials out to the
/// importing leader, whose importer opens the streams back over that connection. Every
/// wait is bounded, every server and relay closed at the end.
@Suite(.serialized) struct ReverseTunnelTests {
    let file = Fixture.service("File Server", type: "_files._tcp")
    let echo = Fixture.service("Echo", type: "_echo._udp")

    @Test func aLeaderThatCannotBeDialledServesTCPAndUDPOverTheTunnelItDialledOut() async throws {
        let bytes = blob(1024 * 1024, seed: 41)
        let tcp = try await TestServer.tcp { BlobSender(bytes) }
        let udp = try await TestServer.udpEcho()
        try await withReverseHarness(exports: [file: [tcp.endpoint], echo: [udp.endpoint]]) { relay in
            let tunnel = try await relay.dialOut()
            #expect(tunnel.isUp)
            #expect(relay.directory.leaders == [relay.nattedLeader.id])
            let tcpPort = try await relay.listen(file)
            for host in ["127.0.0.1", "::1"] {
                let received = try await within(20, "fetch over \(host)") { try await fetch(host, tcpPort) }
                #expect(sha256(received) == sha256(bytes))
            }
            let udpPort = try await relay.listen(echo)
            let datagrams = ["one", "", String(repeating: "x", count: 1400)]
            #expect(try await within(10, "udp echo") { try await udpExchange("127.0.0.1", udpPort, datagrams) } == datagrams.map { "echo:" + $0 })

            #expect(relay.natted.tunnelCount == 1, "every stream on the tunnel it dialled out")
            #expect(relay.server.tunnelCount == 1, "the importer dialled nothing")
            #expect(try await relay.dialOut().isUp, "dialling out again keeps the tunnel up")
            #expect(relay.natted.tunnelCount == 1)
            try await eventually(5, "every stream counted on both sides") {
                relay.natted.report.services[file]?.open == 0 && relay.importer.report.services[file]?.open == 0
            }
            for report in [relay.natted.report, relay.importer.report] {
                #expect(report.services[file]?.streams == 2)
                #expect(report.services[file]?.bytesFromService == UInt64(2 * bytes.count))
                #expect(report.services[echo]?.streams == 1, "one UDP flow")
                #expect(report.refusals.isEmpty)
            }
        }
        await tcp.close()
        await udp.close()
    }

    @Test func aServiceRefusedOverAReverseTunnelIsRefusedWithItsReasonAndCountedOnBothSides() async throws {
        let server = try await TestServer.tcp { BlobSender([1, 2, 3]) }
        let hidden = Fixture.service("Hidden", type: "_files._tcp")
        try await withReverseHarness(exports: [file: [server.endpoint]]) { relay in
            try await relay.dialOut()
            let port = try await relay.listen(hidden)
            #expect(try await within(10, "refused fetch") { try await fetch("127.0.0.1", port) }.isEmpty)
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.unknownService) == 1 }
            #expect(relay.natted.report.refusals == [.unknownService: 1])
            #expect(relay.importer.report.services[hidden]?.streams == 0)

            relay.natted.revoke(file)
            let filePort = try await relay.listen(file)
            #expect(try await within(10, "fetch of a revoked service") { try await fetch("127.0.0.1", filePort) }.isEmpty)
            try await eventually(5, "revocation counted") { relay.importer.report.refusals(.revoked) == 1 }
            #expect(relay.natted.report.refusals(.revoked) == 1)
            #expect(relay.directory.leaders == [relay.nattedLeader.id], "a refused stream leaves the tunnel up")
        }
        await server.close()
    }

    /// Over a reverse tunnel too, a channel naming an address instead of a service is
    /// refused as malformed, and one of the other direction's type (`direct-tcpip` from the
    /// server) as a protocol error; neither reaches the authorizer or ends the tunnel.
    @Test func aReverseChannelNamingAnAddressOrOfTheWrongTypeIsRefused() async throws {
        let server = try await TestServer.tcp { BlobSender([1, 2, 3]) }
        try await withReverseHarness(exports: [file: [server.endpoint]]) { relay in
            try await relay.dialOut()
            let tunnel = try #require(relay.directory.tunnel(to: relay.nattedLeader.id))
            @Sendable func reader(_ channel: Channel, _ answered: EventLoopPromise<StreamReply>) throws {
                try channel.pipeline.syncOperations.addHandlers([SSHDataCodec(), ReplyReader(answered: answered)])
            }
            #expect(try await tunnel.openStream(target: "127.0.0.1", configure: reader).get() == .refused(.malformedRequest))
            #expect(relay.natted.report.refusals == [.malformedRequest: 1])

            let ssh = try await tunnel.channel.eventLoop.submit {
                NIOLoopBound(try tunnel.channel.pipeline.syncOperations.handler(type: NIOSSHHandler.self), eventLoop: tunnel.channel.eventLoop)
            }.get()
            let wrongWay = RelayTunnel(leader: tunnel.leader, channel: tunnel.channel, ssh: ssh, opener: .client, answerTimeout: .seconds(10))
            #expect(try await wrongWay.openStream(for: file, configure: reader).get() == .refused(.tunnelUnavailable))
            #expect(relay.natted.report.refusals == [.malformedRequest: 1, .protocolError: 1])
            #expect(relay.natted.report.services.isEmpty)

            let port = try await relay.listen(file)
            #expect(try await within(10, "fetch on the same tunnel") { try await fetch("127.0.0.1", port) } == [1, 2, 3])
            #expect(relay.server.tunnelCount == 1)
        }
        await server.close()
    }

    @Test func aDialOutWithoutTheNetworkKeyOrToTheWrongLeaderIsRefused() async throws {
        try await withReverseHarness(exports: [:], nattedKey: Fixture.otherKey) { relay in
            await #expect(throws: RelayRefusal.tunnelUnavailable) { try await relay.dialOut() }
            try await eventually(5, "refusal counted") { relay.server.report.refusals(.badNetworkKey) == 1 }
            #expect(relay.directory.leaders.isEmpty)
            #expect(relay.natted.tunnelCount == 0)
        }
        try await withReverseHarness(exports: [:]) { relay in
            let impostor = RelayLeader(id: Fixture.node(7), endpoint: relay.importingLeader.endpoint)
            await #expect(throws: RelayRefusal.wrongHostKey) { try await relay.natted.dialOut(to: impostor) }
            #expect(relay.directory.leaders.isEmpty)
        }
    }

    @Test func aServerWithoutATunnelDirectoryRefusesReverseTunnels() async throws {
        try await withHarness(exports: [:]) { relay in
            // The harness's importing leader dials out to the harness's exporter, which
            // has no directory.
            let natted = RelayExporter(Fixture.settings(Harness.importerIdentity, key: Fixture.key)) { _, _ in .failure(.unknownService) }
            await #expect(throws: RelayRefusal.tunnelUnavailable) { try await natted.dialOut(to: relay.leader) }
            #expect(relay.exporter.report.refusals == [.protocolError: 1])
            await natted.shutdown()
        }
    }

    /// A NATed leader learns its tunnel died only from TCP keepalives (which also keep its
    /// NAT's mapping alive); on loopback nothing dies, so this checks they are on.
    @Test func aReverseTunnelSendsTCPKeepalivesAtTheConfiguredInterval() async throws {
        var limits = RelayLimits()
        limits.reverseKeepalive = .seconds(30)
        try await withReverseHarness(exports: [:], limits: limits) { relay in
            let channel = try await relay.dialOut().channel
            #expect(try await channel.getOption(.socketOption(.so_keepalive)).get() != 0)
            #expect(try await channel.getOption(TCPKeepalive.idle).get() == 30)
            #expect(try await channel.getOption(TCPKeepalive.interval).get() == 10)
            #expect(try await channel.getOption(TCPKeepalive.count).get() == 3)
        }
    }

    @Test func whenTheReverseTunnelClosesTheNextStreamFailsAtOnceAndDialsDirectlyOnceTheLeaderIsDialable() async throws {
        let server = try await TestServer.tcp { BlobSender([7, 7, 7]) }
        try await withReverseHarness(exports: [file: [server.endpoint]]) { relay in
            let tunnel = try await relay.dialOut()
            let port = try await relay.listen(file)
            #expect(try await within(10, "fetch over the reverse tunnel") { try await fetch("127.0.0.1", port) } == [7, 7, 7])

            await tunnel.close()
            try await eventually(5, "the tunnel left the directory") { relay.directory.leaders.isEmpty }
            #expect(try await within(5, "fetch with no tunnel") { try await fetch("127.0.0.1", port) }.isEmpty)
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.tunnelUnavailable) == 1 }

            // The leader became dialable (its relay listens at the address the importer knows).
            _ = try await relay.natted.start(on: relay.nattedLeader.endpoint)
            #expect(try await within(10, "fetch through a direct tunnel") { try await fetch("127.0.0.1", port) } == [7, 7, 7])
            #expect(relay.natted.tunnelCount == 1, "the importer dialled the leader")
            #expect(relay.directory.leaders.isEmpty)
        }
        await server.close()
    }

    @Test func aReverseTunnelThatFallsSilentFailsTheNextStreamWithinTheAnswerTimeout() async throws {
        let server = try await TestServer.tcp { BlobSender([7, 7, 7]) }
        var limits = RelayLimits()
        limits.answerTimeout = .milliseconds(500)
        try await withReverseHarness(exports: [file: [server.endpoint]], limits: limits) { relay in
            let tunnel = try await relay.dialOut()
            let port = try await relay.listen(file)
            #expect(try await within(10, "fetch over the reverse tunnel") { try await fetch("127.0.0.1", port) } == [7, 7, 7])

            // The NATed leader stops reading: its NAT mapping died without a word to anyone.
            try await tunnel.channel.setOption(.autoRead, value: false).get()
            let connection = try await connect("127.0.0.1", port)
            let closed = CloseStamp(connection.channel)
            let started = ContinuousClock.now
            #expect(try await within(10, "fetch over the silent tunnel") { try await drain(connection) } == 0)
            let elapsed = try #require(closed.closed) - started
            #expect(elapsed < .seconds(3), "closed \(elapsed) after connecting; the answer timeout is 0.5 s")
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.tunnelUnavailable) == 1 }
            try await eventually(5, "the tunnel taken for dead left the directory") { relay.directory.leaders.isEmpty }
            #expect(relay.server.tunnelCount == 0, "and is closed")
        }
        await server.close()
    }
}
