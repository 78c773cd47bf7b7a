import Foundation
import NIOCore
import NIOPosix
import Primitives
import Testbed
import Testing
@testable import Relay

/// Circuits over real sockets on loopback: leader B reaches the services of leader C, which
/// nobody can dial, through leader R, which both can reach; C dialled out to R. R's policy,
/// limits, counts and revocation apply; C's answers reach B unchanged. Every wait is
/// bounded, every server and relay closed at the end.
@Suite(.serialized) struct CircuitTests {
    let file = Fixture.service("File Server", type: "_files._tcp")
    let reverser = Fixture.service("Reverser", type: "_rev._tcp")
    let echo = Fixture.service("Echo", type: "_echo._udp")

    @Test func aLeaderBehindNATServesTCPAndUDPThroughAMiddleLeader() async throws {
        let bytes = blob(1024 * 1024, seed: 43)
        let tcp = try await TestServer.tcp { BlobSender(bytes) }
        let halfClose = try await TestServer.tcp { ReverseAfterEOF() }
        let udp = try await TestServer.udpEcho()
        try await withCircuitHarness(exports: [file: [tcp.endpoint], reverser: [halfClose.endpoint], echo: [udp.endpoint]]) { relay in
            try await relay.dialOut()
            #expect(relay.directory.leaders == [Harness.exporterIdentity.id])
            let tcpPort = try await relay.listen(file)
            let received = try await within(20, "fetch through the middle leader") { try await fetch("127.0.0.1", tcpPort) }
            #expect(sha256(received) == sha256(bytes))
            let reverserPort = try await relay.listen(reverser)
            #expect(try await within(10, "request, half-close, answer") { try await fetch("::1", reverserPort, sending: [1, 2, 3]) } == [3, 2, 1])
            let udpPort = try await relay.listen(echo)
            let datagrams = ["one", "", String(repeating: "x", count: 1400)]
            #expect(try await within(10, "udp echo") { try await udpExchange("127.0.0.1", udpPort, datagrams) } == datagrams.map { "echo:" + $0 })

            #expect(relay.natted.tunnelCount == 1, "C's only tunnel is the one it dialled out")
            #expect(relay.middle.tunnelCount == 2, "B's tunnel and C's")
            try await eventually(5, "every stream counted on all three") {
                relay.middle.report.services[file]?.open == 0 && relay.natted.report.services[file]?.open == 0
                    && relay.importer.report.services[file]?.open == 0
            }
            for report in [relay.importer.report, relay.middle.report, relay.natted.report] {
                #expect(report.services[file]?.streams == 1)
                #expect(report.services[file]?.bytesFromService == UInt64(bytes.count))
                #expect(report.services[reverser]?.bytesToService == 3)
                #expect(report.services[echo]?.streams == 1, "one UDP flow")
                #expect(report.refusals.isEmpty)
            }
        }
        await tcp.close()
        await halfClose.close()
        await udp.close()
    }

    @Test func aCircuitTheMiddleLeadersPolicyRefusesIsRefusedWithItsReason() async throws {
        let server = try await TestServer.tcp { BlobSender([1, 2, 3]) }
        let own = Fixture.service("Own", type: "_files._tcp")
        // `own` is not a circuit: R's authorizer answers for it.
        try await withCircuitHarness(exports: [file: [server.endpoint]], circuit: { _, service in
            service == own ? nil : .failure(.notExported)
        }) { relay in
            try await relay.dialOut()
            let port = try await relay.listen(file)
            #expect(try await within(10, "refused fetch") { try await fetch("127.0.0.1", port) }.isEmpty)
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.notExported) == 1 }
            #expect(relay.middle.report.refusals == [.notExported: 1])

            let ownPort = try await relay.listen(own)
            #expect(try await within(10, "fetch of R's own service") { try await fetch("127.0.0.1", ownPort) }.isEmpty)
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.unknownService) == 1 }
            #expect(relay.middle.report.refusals == [.notExported: 1, .unknownService: 1])
            #expect(relay.natted.report.services.isEmpty && relay.natted.report.refusals.isEmpty, "nothing reached C")
        }
        await server.close()
    }

    @Test func aRefusalFromTheTargetLeaderReachesTheRequesterWithItsReason() async throws {
        let hidden = Fixture.service("Hidden", type: "_files._tcp")
        try await withCircuitHarness(exports: [:]) { relay in
            try await relay.dialOut()
            let port = try await relay.listen(hidden)
            #expect(try await within(10, "refused fetch") { try await fetch("127.0.0.1", port) }.isEmpty)
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.unknownService) == 1 }
            #expect(relay.natted.report.refusals == [.unknownService: 1])
            #expect(relay.middle.report.refusals == [.unknownService: 1], "a failed stream at R, with C's reason")
            #expect(relay.middle.report.services[hidden]?.streams == 0)
            #expect(relay.middle.report.services[hidden]?.open == 0)
            #expect(relay.directory.leaders == [Harness.exporterIdentity.id], "a refused stream leaves C's tunnel up")
        }
    }

    @Test func theMiddleLeadersPerPeerLimitRefusesTheExtraStream() async throws {
        let server = try await TestServer.tcp { EndlessSender() }
        var limits = RelayLimits()
        limits.connectionsPerPeer = 1
        try await withCircuitHarness(exports: [file: [server.endpoint]], middleLimits: limits) { relay in
            try await relay.dialOut()
            let port = try await relay.listen(file)
            let held = try await ClientBootstrap(group: group).channelOption(.autoRead, value: false)
                .connect(host: "127.0.0.1", port: Int(port)).get()
            try await eventually(10, "one circuit open") { relay.middle.report.services[file]?.open == 1 }
            #expect(try await within(10, "second fetch") { try await fetch("127.0.0.1", port) }.isEmpty)
            #expect(relay.middle.report.refusals == [.limitConnectionsPeer: 1])
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.limitConnectionsPeer) == 1 }
            #expect(relay.natted.report.refusals.isEmpty)
            #expect(relay.natted.report.services[file]?.streams == 1, "the refused stream never reached C")
            try? await held.close()
            try await eventually(5, "the held circuit ended everywhere") {
                relay.middle.report.services[file]?.open == 0 && relay.natted.report.services[file]?.open == 0
            }
        }
        await server.close()
    }

    @Test func revokingAtTheMiddleLeaderClosesTheOpenCircuitAndRefusesNewOnes() async throws {
        let server = try await TestServer.tcp { EndlessSender() }
        try await withCircuitHarness(exports: [file: [server.endpoint]]) { relay in
            try await relay.dialOut()
            let port = try await relay.listen(file)
            let connection = try await connect("127.0.0.1", port)
            let closed = CloseStamp(connection.channel)
            let transfer = Task { try await drain(connection) }
            try await eventually(10, "a megabyte flows through R") { (relay.middle.report.services[file]?.bytesFromService ?? 0) > 1 << 20 }
            let revoked = ContinuousClock.now
            relay.middle.revoke(file)
            let received = try await value(of: transfer, within: 10, "transfer closed after revocation")
            #expect(received > 1 << 20)
            let elapsed = try #require(closed.closed) - revoked
            #expect(elapsed < .seconds(2), "the client's connection closed \(elapsed) after the revocation")
            #expect(relay.middle.report.endings[.revoked] == 1)
            try await eventually(5, "C's stream ended too") { relay.natted.report.services[file]?.open == 0 }

            #expect(try await within(10, "fetch after revocation") { try await fetch("127.0.0.1", port) }.isEmpty)
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.revoked) == 1 }
            #expect(relay.middle.report.refusals == [.revoked: 1])
            #expect(relay.natted.report.services[file]?.streams == 1)
        }
        await server.close()
    }

    /// A target leader that falls silent is given up by the middle leader in half the
    /// answer timeout, so the requester, waiting the whole of it, hears a refusal instead of
    /// taking its own tunnel to the middle leader (and its other streams) for dead.
    @Test func aSilentTargetLeaderIsRefusedBeforeTheRequesterGivesUpOnTheMiddleLeader() async throws {
        let server = try await TestServer.tcp { BlobSender([7, 7, 7]) }
        var limits = RelayLimits()
        limits.answerTimeout = .seconds(1)
        try await withCircuitHarness(exports: [file: [server.endpoint]], middleLimits: limits, importerLimits: limits) { relay in
            let tunnel = try await relay.dialOut()
            let port = try await relay.listen(file)
            #expect(try await within(10, "fetch through the middle leader") { try await fetch("127.0.0.1", port) } == [7, 7, 7])

            // C stops reading: its NAT mapping died without a word to anyone.
            try await tunnel.channel.setOption(.autoRead, value: false).get()
            let connection = try await connect("127.0.0.1", port)
            let closed = CloseStamp(connection.channel)
            let started = ContinuousClock.now
            #expect(try await within(10, "fetch from the silent leader") { try await drain(connection) } == 0)
            let elapsed = try #require(closed.closed) - started
            #expect(elapsed < .seconds(3), "closed \(elapsed) after connecting; R waits 0.5 s")
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.tunnelUnavailable) == 1 }
            #expect(relay.middle.report.refusals == [.tunnelUnavailable: 1])
            try await eventually(5, "C's tunnel, taken for dead, left R's directory") { relay.directory.leaders.isEmpty }
            // Past B's own answer timeout: had it fired, B would have closed its tunnel to R.
            try await Task.sleep(for: .seconds(1))
            #expect(relay.middle.tunnelCount == 1, "B's tunnel to R is still up")
        }
        await server.close()
    }

    @Test func withoutTheTargetLeadersTunnelACircuitIsRefusedAsTunnelUnavailableOnceTheWaitIsOver() async throws {
        let server = try await TestServer.tcp { BlobSender([1, 2, 3]) }
        var limits = RelayLimits()
        limits.answerTimeout = .seconds(3)  // the middle waits a third of it for C's tunnel
        try await withCircuitHarness(exports: [file: [server.endpoint]], middleLimits: limits) { relay in
            let port = try await relay.listen(file)
            let started = ContinuousClock.now
            #expect(try await within(10, "fetch with no tunnel to C") { try await fetch("127.0.0.1", port) }.isEmpty)
            #expect(ContinuousClock.now - started >= .milliseconds(900), "the middle waited for C's tunnel")
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.tunnelUnavailable) == 1 }
            #expect(relay.middle.report.refusals == [.tunnelUnavailable: 1])
            #expect(relay.middle.report.services.isEmpty)
        }
        await server.close()
    }

    /// Both leaders are asked to dial the middle one at the same moment; a client that
    /// connects before C's tunnel is up is served once it is, not closed.
    @Test func aCircuitStreamThatArrivesBeforeTheTargetLeadersTunnelWaitsForIt() async throws {
        let server = try await TestServer.tcp { BlobSender([1, 2, 3]) }
        try await withCircuitHarness(exports: [file: [server.endpoint]]) { relay in
            let port = try await relay.listen(file)
            async let fetched = within(20, "fetch made before C dialled out") { try await fetch("127.0.0.1", port) }
            try await Task.sleep(for: .milliseconds(500))  // the stream is waiting at the middle leader now
            try await relay.dialOut()
            #expect(try await fetched == [1, 2, 3])
            #expect(relay.middle.report.refusals.isEmpty)
        }
        await server.close()
    }
}
