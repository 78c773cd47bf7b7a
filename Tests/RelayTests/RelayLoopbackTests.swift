import Foundation
import NIOCore
import NIOPosix
import Primitives
import Testbed
import Testing
@testable import Relay

/// The relay end to end over real sockets on 127.0.0.1 and ::1: a service behind the
/// exporting leader, a client in front of the importing leader's listener. Every wait is
/// bounded, every server and relay closed at the end.
@Suite(.serialized) struct RelayLoopbackTests {
    let file = Fixture.service("File Server", type: "_files._tcp")

    @Test func aFileStreamedThroughTheRelayArrivesWholeOverIPv4AndIPv6() async throws {
        let bytes = blob(4 * 1024 * 1024, seed: 14)
        let server = try await TestServer.tcp { BlobSender(bytes) }
        try await withHarness(exports: [file: [server.endpoint]]) { relay in
            let port = try await relay.listen(file)
            for host in ["127.0.0.1", "::1"] {
                let received = try await within(20, "fetch over \(host)") { try await fetch(host, port) }
                #expect(received.count == bytes.count)
                #expect(sha256(received) == sha256(bytes))
            }
            #expect(relay.exporter.tunnelCount == 1, "both connections share one tunnel")
            try await eventually(5, "both streams ended") {
                relay.exporter.report.services[file]?.open == 0 && relay.importer.report.services[file]?.open == 0
            }
            for report in [relay.exporter.report, relay.importer.report] {
                let traffic = try #require(report.services[file])
                #expect(traffic.streams == 2)
                #expect(traffic.bytesFromService == UInt64(2 * bytes.count))
                #expect(report.refusals.isEmpty)
            }
        }
        await server.close()
    }

    @Test func aClientThatHalfClosesItsRequestGetsTheWholeAnswer() async throws {
        let server = try await TestServer.tcp { ReverseAfterEOF() }
        try await withHarness(exports: [file: [server.endpoint]]) { relay in
            let port = try await relay.listen(file)
            let request = blob(1024 * 1024, seed: 3)
            let answer = try await within(20, "request and answer") { try await fetch("127.0.0.1", port, sending: request) }
            #expect(answer == request.reversed())
            try await eventually(5, "stream ended") { relay.importer.report.services[file]?.open == 0 }
            #expect(relay.importer.report.services[file]?.bytesToService == UInt64(request.count))
        }
        await server.close()
    }

    /// The client's whole request and its end arrive before the exporting leader answers:
    /// nothing of it may be lost while the stream is being opened.
    @Test(arguments: [6, 100_000]) func aRequestSentWholeBeforeTheStreamIsAcceptedIsServed(size: Int) async throws {
        let server = try await TestServer.tcp { ReverseAfterEOF() }
        try await withHarness(exports: [file: [server.endpoint]]) { relay in
            let port = try await relay.listen(file)
            for round in 0..<10 {
                let request = blob(size, seed: UInt64(round))
                let answer = try await within(10, "round \(round)") { try await fetch("127.0.0.1", port, sending: request) }
                #expect(answer == request.reversed())
            }
        }
        await server.close()
    }

    /// A service that writes a short greeting and closes at once: its bytes must still come
    /// after the reply, and all of them.
    @Test func aServiceThatAnswersAndClosesAtOnceReachesEveryClient() async throws {
        let greeting = Array("220 ready\r\n".utf8)
        let server = try await TestServer.tcp { BlobSender(greeting) }
        try await withHarness(exports: [file: [server.endpoint]]) { relay in
            let port = try await relay.listen(file)
            for round in 0..<20 {
                #expect(try await within(10, "round \(round)") { try await fetch("127.0.0.1", port) } == greeting)
            }
            #expect(relay.importer.report.refusals.isEmpty)
        }
        await server.close()
    }

    @Test func udpDatagramsOfEachClientAreEchoedThroughTheRelay() async throws {
        let echo = Fixture.service("Echo", type: "_echo._udp")
        let server = try await TestServer.udpEcho()
        try await withHarness(exports: [echo: [server.endpoint]]) { relay in
            let port = try await relay.listen(echo)
            let datagrams = ["one", "", "three", String(repeating: "x", count: 1400)]
            for host in ["127.0.0.1", "::1"] {
                let answers = try await within(10, "udp echo over \(host)") { try await udpExchange(host, port, datagrams) }
                #expect(answers == datagrams.map { "echo:" + $0 })
            }
            let traffic = try #require(relay.exporter.report.services[echo])
            #expect(traffic.streams == 2, "one flow per client socket")
            #expect(traffic.bytesToService == UInt64(2 * datagrams.map(\.utf8.count).reduce(0, +)))
        }
        await server.close()
    }

    @Test func aServiceOverBothTransportsIsRelayedOnOnePort() async throws {
        var overTCP = Fixture.service("Phone", type: "_sip._udp")
        overTCP.transport = .tcp
        let overUDP = Fixture.service("Phone", type: "_sip._udp")
        let tcp = try await TestServer.tcp { ReverseAfterEOF() }
        let udp = try await TestServer.udpEcho()
        try await withHarness(exports: [overTCP: [tcp.endpoint], overUDP: [udp.endpoint]]) { relay in
            let port = try await relay.listen(overTCP)
            #expect(try await relay.importer.listen(for: overUDP, via: relay.leader, on: [loopbackV4, loopbackV6], port: port) == port)
            #expect(try await within(10, "tcp") { try await fetch("::1", port, sending: Array("INVITE".utf8)) } == Array("ETIVNI".utf8))
            #expect(try await within(10, "udp") { try await udpExchange("::1", port, ["OPTIONS"]) } == ["echo:OPTIONS"])
        }
        await tcp.close()
        await udp.close()
    }

    @Test func aServiceTheAuthorizerRefusesIsClosedAtTheClientAndCountedOnBothSides() async throws {
        let server = try await TestServer.tcp { BlobSender([1, 2, 3]) }
        let hidden = Fixture.service("Hidden", type: "_files._tcp")
        try await withHarness(exports: [file: [server.endpoint]]) { relay in
            let port = try await relay.listen(hidden)
            let received = try await within(10, "refused fetch") { try await fetch("127.0.0.1", port) }
            #expect(received.isEmpty)
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.unknownService) == 1 }
            #expect(relay.exporter.report.refusals == [.unknownService: 1])
            #expect(relay.importer.report.services[hidden]?.streams == 0)
        }
        await server.close()
    }

    /// The relay is never an open proxy: a channel naming an address (what `ssh -L` sends)
    /// instead of a service is refused before the authorizer is asked.
    @Test(arguments: ["192.168.1.10", "127.0.0.1", "printer.local", ""])
    func aChannelNamingAnAddressIsRefusedAsMalformed(target: String) async throws {
        let server = try await TestServer.tcp { BlobSender([1, 2, 3]) }
        try await withHarness(exports: [file: [server.endpoint]]) { relay in
            let settings = Fixture.settings(Harness.importerIdentity, key: Fixture.key)
            let tunnel = try await RelayTunnel.dial(relay.leader, settings: settings, on: group.next()).get()
            let reply = try await tunnel.openStream(target: target) { channel, answered in
                try channel.pipeline.syncOperations.addHandlers([SSHDataCodec(), ReplyReader(answered: answered)])
            }.get()
            #expect(reply == .refused(.malformedRequest))
            #expect(relay.exporter.report.refusals == [.malformedRequest: 1])
            try await tunnel.channel.close()
        }
        await server.close()
    }

    @Test(arguments: [("no key", nil), ("another key", Fixture.otherKey)] as [(String, NetworkKey?)])
    func aClientWithoutTheNetworkKeyIsRefusedAsBadNetworkKey(_ what: String, key: NetworkKey?) async throws {
        let server = try await TestServer.tcp { BlobSender([1, 2, 3]) }
        try await withHarness(exports: [file: [server.endpoint]], importerKey: key) { relay in
            let port = try await relay.listen(file)
            let received = try await within(10, "fetch with \(what)") { try await fetch("127.0.0.1", port) }
            #expect(received.isEmpty)
            try await eventually(5, "refusal counted") { relay.exporter.report.refusals(.badNetworkKey) == 1 }
            #expect(relay.importer.report.refusals == [.tunnelUnavailable: 1])
            #expect(relay.exporter.report.services.isEmpty)
        }
        await server.close()
    }

    @Test func anOpenServerRefusesAKeyedClient() async throws {
        let server = try await TestServer.tcp { BlobSender([1, 2, 3]) }
        try await withHarness(exports: [file: [server.endpoint]], exporterKey: nil) { relay in
            let port = try await relay.listen(file)
            #expect(try await within(10, "fetch") { try await fetch("127.0.0.1", port) }.isEmpty)
            try await eventually(5, "refusal counted") { relay.exporter.report.refusals(.badNetworkKey) == 1 }
        }
        try await withHarness(exports: [file: [server.endpoint]], exporterKey: nil, importerKey: nil) { relay in
            let port = try await relay.listen(file)
            #expect(try await within(10, "fetch in open mode") { try await fetch("127.0.0.1", port) } == [1, 2, 3])
        }
        await server.close()
    }

    @Test func aServerWhoseHostKeyIsNotTheExpectedLeaderIsRefused() async throws {
        let server = try await TestServer.tcp { BlobSender([1, 2, 3]) }
        try await withHarness(exports: [file: [server.endpoint]], expectedLeader: Fixture.node(7)) { relay in
            let port = try await relay.listen(file)
            #expect(try await within(10, "fetch") { try await fetch("127.0.0.1", port) }.isEmpty)
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.wrongHostKey) == 1 }
            #expect(relay.exporter.report.services.isEmpty, "no stream reached the server")
        }
        await server.close()
    }

    @Test func revocationClosesAnOpenTransferWithinTwoSecondsAndRefusesNewOnes() async throws {
        let server = try await TestServer.tcp { EndlessSender() }
        try await withHarness(exports: [file: [server.endpoint]]) { relay in
            let port = try await relay.listen(file)
            let connection = try await connect("127.0.0.1", port)
            let closed = CloseStamp(connection.channel)
            let transfer = Task { try await drain(connection) }
            try await eventually(10, "a megabyte flows") { (relay.exporter.report.services[file]?.bytesFromService ?? 0) > 1 << 20 }
            let revoked = ContinuousClock.now
            relay.exporter.revoke(file)
            let received = try await value(of: transfer, within: 10, "transfer closed after revocation")
            #expect(received > 1 << 20)
            let elapsed = try #require(closed.closed) - revoked
            #expect(elapsed < .seconds(2), "the client's connection closed \(elapsed) after the revocation")
            #expect(relay.exporter.report.endings[.revoked] == 1)

            #expect(try await within(10, "fetch after revocation") { try await fetch("127.0.0.1", port) }.isEmpty)
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.revoked) == 1 }
            #expect(relay.exporter.report.refusals == [.revoked: 1])
        }
        await server.close()
    }

    @Test func smallStreamsCompleteBesideAStalledAndARunningBulkTransferOnOneTunnel() async throws {
        let running = Fixture.service("Bulk", type: "_files._tcp")
        let stalled = Fixture.service("Stalled", type: "_files._tcp")
        let chat = Fixture.service("Chat", type: "_chat._tcp")
        let endless = try await TestServer.tcp { EndlessSender() }
        let echo = try await TestServer.tcp { Echo() }
        try await withHarness(exports: [running: [endless.endpoint], stalled: [endless.endpoint], chat: [echo.endpoint]]) { relay in
            let runningPort = try await relay.listen(running)
            let stalledPort = try await relay.listen(stalled)
            let chatPort = try await relay.listen(chat)
            // A client that never reads: its stream's SSH window fills and stays shut.
            let stalledClient = try await ClientBootstrap(group: group).channelOption(.autoRead, value: false)
                .connect(host: "127.0.0.1", port: Int(stalledPort)).get()
            // And one that reads as fast as it can.
            let bulk = Task { try await fetch("127.0.0.1", runningPort) }
            @Sendable func sent(_ service: ServiceRef) -> UInt64 { relay.exporter.report.services[service]?.bytesFromService ?? 0 }
            try await eventually(10, "the running transfer is under way") { sent(running) > 32 << 20 }
            // The stalled stream stops at its window (2 MiB) plus what sockets buffer.
            let stalledAt = sent(stalled)
            try await Task.sleep(for: .milliseconds(200))
            #expect(sent(stalled) == stalledAt, "the stalled stream no longer moves")
            #expect(stalledAt < 16 << 20)

            let started = ContinuousClock.now
            try await within(20, "small streams") {
                try await withThrowingTaskGroup(of: Void.self) { streams in
                    for n in 0..<50 {
                        streams.addTask {
                            let message = blob(100, seed: UInt64(n))
                            let connection = try await connect("127.0.0.1", chatPort)
                            try await connection.executeThenClose { inbound, outbound in
                                try await outbound.write(ByteBuffer(bytes: message))
                                var echoed: [UInt8] = []
                                for try await var chunk in inbound {
                                    echoed += chunk.readBytes(length: chunk.readableBytes)!
                                    if echoed.count >= message.count { break }
                                }
                                #expect(echoed == message)
                            }
                        }
                    }
                    try await streams.waitForAll()
                }
            }
            let elapsed = ContinuousClock.now - started
            #expect(sent(running) > 32 << 20)
            #expect(relay.exporter.tunnelCount == 1, "every stream on one tunnel")
            #expect(relay.importer.report.services[chat]?.streams == 50)
            print("relay: 50 small streams beside a running and a stalled bulk transfer in \(elapsed); stalled at \(stalledAt) bytes")
            bulk.cancel()
            _ = await bulk.result
            try? await stalledClient.close()
        }
        await endless.close()
        await echo.close()
    }

    @Test func aDroppedTunnelFailsItsStreamsAndIsDialledAgainOnTheNextOne() async throws {
        let endless = try await TestServer.tcp { EndlessSender() }
        let small = Fixture.service("Small", type: "_files._tcp")
        let smallServer = try await TestServer.tcp { BlobSender([7, 7, 7]) }
        let first = try await Harness.start(exports: [file: [endless.endpoint], small: [smallServer.endpoint]])
        let port = try await first.listen(file)
        let smallPort = try await first.listen(small)
        let transfer = Task { try await fetch("127.0.0.1", port) }
        try await eventually(10, "bytes flow") { (first.exporter.report.services[file]?.bytesFromService ?? 0) > 1 << 20 }
        // The exporting leader goes away and comes back on the same port.
        await first.exporter.shutdown()
        _ = try await value(of: transfer, within: 5, "the open transfer fails")
        let second = try await Harness.start(exports: [small: [smallServer.endpoint]], port: first.leader.endpoint.port)
        #expect(try await within(10, "fetch through a new tunnel") { try await fetch("127.0.0.1", smallPort) } == [7, 7, 7])
        #expect(second.exporter.tunnelCount == 1)
        await first.importer.shutdown()
        await second.close()
        await endless.close()
        await smallServer.close()
    }

    @Test func aStreamLeftUnansweredFailsAndTheNextOneDialsANewTunnel() async throws {
        // A LAN endpoint whose connects never complete: a listener that accepts nothing, its
        // backlog filled by one connection, drops further handshakes (loopback only).
        let blackhole = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 0)
            .serverChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0).get()
        let filler = try await ClientBootstrap(group: group).connect(to: blackhole.localAddress!).get()
        let silent = Fixture.service("Silent", type: "_files._tcp")
        let server = try await TestServer.tcp { BlobSender([7, 7, 7]) }
        var limits = RelayLimits()
        limits.answerTimeout = .milliseconds(500)
        let hole = Endpoint(ipv4: 127, 0, 0, 1, port: UInt16(blackhole.localAddress!.port!))
        try await withHarness(exports: [silent: [hole], file: [server.endpoint]], importerLimits: limits) { relay in
            let silentPort = try await relay.listen(silent)
            let connection = try await connect("127.0.0.1", silentPort)
            let closed = CloseStamp(connection.channel)
            let started = ContinuousClock.now
            #expect(try await within(10, "unanswered fetch") { try await drain(connection) } == 0)
            let elapsed = try #require(closed.closed) - started
            #expect(elapsed < .seconds(5), "closed \(elapsed) after connecting; the answer timeout is 0.5 s")
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.tunnelUnavailable) == 1 }
            try await eventually(5, "the tunnel taken for dead is closed") { relay.exporter.tunnelCount == 0 }
            let port = try await relay.listen(file)
            #expect(try await within(10, "fetch through a new tunnel") { try await fetch("127.0.0.1", port) } == [7, 7, 7])
        }
        try? await filler.close()
        try? await blackhole.close()
        await server.close()
    }

    @Test func closingAListenerClosesItsConnectionsWithinTwoSeconds() async throws {
        let server = try await TestServer.tcp { EndlessSender() }
        try await withHarness(exports: [file: [server.endpoint]]) { relay in
            let port = try await relay.listen(file)
            let connection = try await connect("127.0.0.1", port)
            let closed = CloseStamp(connection.channel)
            let transfer = Task { try await drain(connection) }
            try await eventually(10, "bytes flow") { (relay.importer.report.services[file]?.bytesFromService ?? 0) > 1 << 20 }
            let stopped = ContinuousClock.now
            await relay.importer.stopListening(file)
            _ = try await value(of: transfer, within: 10, "transfer closed")
            let elapsed = try #require(closed.closed) - stopped
            #expect(elapsed < .seconds(2), "the client's connection closed \(elapsed) after the listener")
            #expect(relay.importer.port(of: file) == nil)
            #expect(relay.importer.report.endings[.revoked] == 1)
            await #expect(throws: (any Error).self) { try await connect("127.0.0.1", port) }
            try await eventually(5, "the exporting side's stream ended too") { relay.exporter.report.services[file]?.open == 0 }
        }
        await server.close()
    }

    @Test func streamsBeyondTheServicesLimitAreRefusedAndCounted() async throws {
        let server = try await TestServer.tcp { EndlessSender() }
        var limits = RelayLimits()
        limits.connectionsPerService = 2
        try await withHarness(exports: [file: [server.endpoint]], exporterLimits: limits) { relay in
            let port = try await relay.listen(file)
            var held: [Channel] = []
            for _ in 0..<2 {
                held.append(try await ClientBootstrap(group: group).channelOption(.autoRead, value: false)
                    .connect(host: "127.0.0.1", port: Int(port)).get())
            }
            try await eventually(10, "two streams open") { relay.exporter.report.services[file]?.open == 2 }
            #expect(try await within(10, "third fetch") { try await fetch("127.0.0.1", port) }.isEmpty)
            #expect(relay.exporter.report.refusals == [.limitConnectionsService: 1])
            try await eventually(5, "refusal counted") { relay.importer.report.refusals(.limitConnectionsService) == 1 }
            for channel in held { try? await channel.close() }
        }
        await server.close()
    }

    @Test func idleStreamsAndFlowsAreClosedAfterTheIdleTimeout() async throws {
        let chat = Fixture.service("Chat", type: "_chat._tcp")
        let echoUDP = Fixture.service("Echo", type: "_echo._udp")
        let echo = try await TestServer.tcp { Echo() }
        let udp = try await TestServer.udpEcho()
        var limits = RelayLimits()
        limits.idleTimeout = .milliseconds(300)
        limits.flowIdleTimeout = .milliseconds(300)
        try await withHarness(exports: [chat: [echo.endpoint], echoUDP: [udp.endpoint]], importerLimits: limits) { relay in
            let tcpPort = try await relay.listen(chat)
            let quiet = try await connect("127.0.0.1", tcpPort)
            let ended = try await within(5, "idle connection closed") {
                try await quiet.executeThenClose { inbound, _ in
                    for try await _ in inbound {}
                    return true
                }
            }
            #expect(ended)
            let udpPort = try await relay.listen(echoUDP)
            #expect(try await within(5, "echo") { try await udpExchange("127.0.0.1", udpPort, ["a"]) } == ["echo:a"])
            try await eventually(5, "both idle") { relay.importer.report.endings[.idleTimeout] == 2 }
        }
        await echo.close()
        await udp.close()
    }
}
