import Foundation
import NIOCore
import NIOEmbedded
import SIP
@testable import SIPServer
import Synchronization
import Testing

/// The server over real loopback sockets, with a fixed lookup table.
@Suite(.serialized) struct SIPServerTests {
    static let table: [SIPAddressOfRecord: [SIPContact]] = {
        var table: [SIPAddressOfRecord: [SIPContact]] = [:]
        if let alice = try? SIPAddressOfRecord(parsing: "sip:alice@example.org"),
           let contact = try? SIPContact(parsing: "<sip:alice@192.0.2.10:5062>") {
            table[alice] = [contact]
        }
        return table
    }()

    static func fixedLookup(_ aor: SIPAddressOfRecord) async -> [SIPContact] { table[aor] ?? [] }

    /// Runs a server on 127.0.0.1 (ports chosen by the kernel) for the duration of `body`.
    static func withServer(
        _ configuration: SIPServerConfiguration = SIPServerConfiguration(host: "127.0.0.1", port: 0),
        lookup: @escaping SIPLookup = fixedLookup,
        _ body: (SIPServer, _ udpPort: Int, _ tcpPort: Int) async throws -> Void
    ) async throws {
        let server = SIPServer(configuration: configuration, lookup: lookup)
        let (ready, readySignal) = AsyncStream.makeStream(of: SIPServerAddresses.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run { readySignal.yield($0) } }
            var iterator = ready.makeAsyncIterator()
            let addresses = try #require(await iterator.next())
            try await body(server, addresses.udp?.port ?? 0, addresses.tcp?.port ?? 0)
            group.cancelAll()
        }
    }

    static func response(_ bytes: [UInt8]?) throws -> SIPResponse {
        let bytes = try #require(bytes, "no response before the deadline")
        return try SIPResponse(parsing: SIPMessage.parse(bytes, transport: .stream))
    }

    @Test func udpInviteForAKnownAoRIsRedirectedToItsContact() async throws {
        try await Self.withServer { server, udpPort, _ in
            var client = try LoopbackClient(udpTo: udpPort)
            try client.send(request(id: 1, port: client.localPort))
            let response = try Self.response(await client.receive())
            #expect(response.statusCode == 302)
            #expect(response.values(.contact) == ["<sip:alice@192.0.2.10:5062>"])
            #expect(response.values(.callID) == ["call-1@test"])
            #expect(response.values(.cseq) == ["1 INVITE"])
            #expect(response.values(.via).first?.contains("rport=\(client.localPort)") == true)
            #expect(response.values(.to).first?.contains(";tag=") == true)
            #expect(server.metrics.snapshot().responses[302] == 1)
        }
    }

    @Test func udpUnknownAoRGets404AndAckGetsNothing() async throws {
        try await Self.withServer { server, udpPort, _ in
            var client = try LoopbackClient(udpTo: udpPort)
            try client.send(request(to: "sip:nobody@example.org", id: 2, port: client.localPort))
            #expect(try Self.response(await client.receive()).statusCode == 404)
            try client.send(request("ACK", to: "sip:nobody@example.org", id: 2, port: client.localPort))
            try client.send(request("OPTIONS", id: 3, port: client.localPort))
            // The next datagram answers the OPTIONS: the ACK produced none.
            let options = try Self.response(await client.receive())
            #expect(options.statusCode == 302)
            #expect(options.values(.cseq) == ["3 OPTIONS"])
            #expect(server.metrics.snapshot().acknowledgements == 1)
        }
    }

    @Test func tcpCarriesPipelinedAndSplitRequests() async throws {
        try await Self.withServer { _, _, tcpPort in
            var client = try LoopbackClient(tcpTo: tcpPort)
            let first = request(id: 10, transport: "TCP")
            let second = request("MESSAGE", to: "sip:nobody@example.org", id: 11, transport: "TCP")
            // Two requests in one write, the second split across two writes.
            try client.send(first + second.prefix(20))
            try client.send(Array(second.dropFirst(20)))
            var codes: [String: Int] = [:]
            for _ in 0..<2 {
                let response = try Self.response(await client.receive())
                codes[response.values(.cseq).first ?? ""] = response.statusCode
            }
            #expect(codes == ["10 INVITE": 302, "11 MESSAGE": 404])
        }
    }

    @Test func garbageIsCountedAndTheServerKeepsServing() async throws {
        try await Self.withServer { server, udpPort, tcpPort in
            var udp = try LoopbackClient(udpTo: udpPort)
            for junk in [[UInt8](), [0xff, 0x00, 0x0d], Array("INVITE\r\n\r\n".utf8), Array(repeating: 0x41, count: 70_000)] {
                try? udp.send(junk)
            }
            var tcp = try LoopbackClient(tcpTo: tcpPort)
            try tcp.send(Array("NOT SIP AT ALL\r\nno colon here\r\n\r\n".utf8))
            #expect(await tcp.receive(timeout: .seconds(2)) == nil)  // closed, no answer
            try udp.send(request(id: 20, port: udp.localPort))
            #expect(try Self.response(await udp.receive()).statusCode == 302)
            let rejections = server.metrics.snapshot().rejections
            #expect(rejections.values.reduce(0, +) >= 3)
            #expect(rejections["header_line_malformed"] == 1)
        }
    }

    /// Issue 18: 256 idle TCP connections from one host took every slot.
    @Test func oneSourceHoldsAtMostItsShareOfTheConnections() async throws {
        let configuration = SIPServerConfiguration(host: "127.0.0.1", port: 0, maximumConnectionsPerSource: 2)
        try await Self.withServer(configuration) { server, _, tcpPort in
            var first = try LoopbackClient(tcpTo: tcpPort)
            var second = try LoopbackClient(tcpTo: tcpPort)
            var third = try LoopbackClient(tcpTo: tcpPort)
            try third.send(request(id: 32, transport: "TCP"))
            #expect(await third.receive(timeout: .seconds(2)) == nil, "the third from one source is closed unanswered")
            try first.send(request(id: 30, transport: "TCP"))
            #expect(try Self.response(await first.receive()).statusCode == 302)
            try second.send(request(id: 31, transport: "TCP"))
            #expect(try Self.response(await second.receive()).statusCode == 302)
            #expect(server.metrics.snapshot().connectionsRefused == 1)
        }
    }

    @Test func malformedRequestGets400NamingTheReason() async throws {
        try await Self.withServer { server, udpPort, _ in
            var client = try LoopbackClient(udpTo: udpPort)
            let bad = request(id: 30, port: client.localPort, extra: []).replacing(Array("CSeq: 30 INVITE".utf8), with: Array("CSeq: 30 OPTIONS".utf8))
            try client.send(bad)
            let response = try Self.response(await client.receive())
            #expect(response.statusCode == 400)
            #expect(response.reasonPhrase == "Bad Request (cseq_method_mismatch)")
            #expect(server.metrics.snapshot().rejections["cseq_method_mismatch"] == 1)
        }
    }

    @Test func lookupsBeyondTheLimitGet503() async throws {
        let gate = Gate()
        let configuration = SIPServerConfiguration(host: "127.0.0.1", port: 0, maximumConcurrentLookups: 1)
        try await Self.withServer(configuration, lookup: { aor in
            await gate.wait()
            return await Self.fixedLookup(aor)
        }) { server, udpPort, _ in
            var client = try LoopbackClient(udpTo: udpPort)
            try client.send(request(id: 40, port: client.localPort))
            try await poll(until: { server.metrics.snapshot().lookupsInFlight == 1 })
            try client.send(request(id: 41, port: client.localPort))
            let busy = try Self.response(await client.receive())
            #expect(busy.statusCode == 503)
            #expect(busy.values(.retryAfter) == ["1"])
            gate.open()
            #expect(try Self.response(await client.receive()).statusCode == 302)
            #expect(server.metrics.snapshot().rejections["overloaded"] == 1)
        }
    }

    @Test func idleTCPConnectionsAreClosed() async throws {
        let configuration = SIPServerConfiguration(host: "127.0.0.1", port: 0, connectionIdleTimeout: .milliseconds(200))
        try await Self.withServer(configuration) { _, _, tcpPort in
            var client = try LoopbackClient(tcpTo: tcpPort)
            let start = ContinuousClock.now
            #expect(await client.receive(timeout: .seconds(5)) == nil)  // nil at once when the server closes
            #expect(ContinuousClock.now - start < .seconds(4))
        }
    }

    @Test func handlerAnswersThroughAnEmbeddedChannel() throws {
        // The stream handler alone, without sockets: bytes in, response bytes out.
        let (_, jobs) = AsyncStream.makeStream(of: SIPServerCore.LookupJob.self)
        let core = SIPServerCore(configuration: .init(), metrics: SIPServerMetrics(), lookup: Self.fixedLookup, jobs: jobs)
        let channel = EmbeddedChannel(handler: SIPStreamHandler(core: core))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5999)).wait()
        try channel.writeInbound(ByteBuffer(bytes: request("REGISTER", to: "sip:example.org", id: 50, transport: "TCP")))
        let out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let response = try SIPResponse(parsing: SIPMessage.parse(Array(out.readableBytesView), transport: .stream))
        #expect(response.statusCode == 405)
        #expect(response.values(SIPHeaderName("Allow")) == ["INVITE, ACK, CANCEL, OPTIONS, MESSAGE"])
    }

    /// Issue 18, point 8: a forged UDP source must not turn the server into an amplifier.
    /// One source gets its burst and rate of answers; others, and loopback, are not held back.
    @Test func udpAnswersToOneSourceAreRateLimited() throws {
        let (_, jobs) = AsyncStream.makeStream(of: SIPServerCore.LookupJob.self)
        let metrics = SIPServerMetrics()
        let core = SIPServerCore(configuration: .init(), metrics: metrics, lookup: Self.fixedLookup, jobs: jobs)
        let channel = EmbeddedChannel(handler: SIPDatagramHandler(core: core))
        func answers(from address: String, count: Int, firstID: Int) throws -> Int {
            let remote = try SocketAddress(ipAddress: address, port: 5060)
            for id in firstID..<firstID + count {
                try channel.writeInbound(AddressedEnvelope(remoteAddress: remote,
                                                           data: ByteBuffer(bytes: request("OPTIONS", to: "sip:gateway", id: id))))
            }
            var answered = 0
            while let out = try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) {
                #expect(out.remoteAddress == remote)
                answered += 1
            }
            return answered
        }
        let victim = try answers(from: "192.0.2.7", count: 400, firstID: 1)
        #expect(victim >= 100 && victim < 150, "\(victim) answers to one forged source")
        #expect(try answers(from: "192.0.2.8", count: 50, firstID: 1_000) == 50)
        #expect(try answers(from: "127.0.0.1", count: 400, firstID: 2_000) == 400)
        #expect(metrics.snapshot().repliesRateLimited == 400 - victim)
    }
}

/// Waits for a condition with a deadline, yielding between checks.
func poll(until condition: () -> Bool, timeout: Duration = .seconds(5)) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw PollTimeout() }
        await Task.yield()
    }
}

struct PollTimeout: Error {}

/// A one-shot gate lookups wait on.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resume = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resume { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
