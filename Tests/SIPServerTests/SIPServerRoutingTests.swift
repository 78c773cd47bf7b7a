import Foundation
import SIP
@testable import SIPServer
import Testing

/// The server's own sockets: dual-stack listening, and the proxy role end to end over
/// loopback (a caller, the gateway, a callee, all on 127.0.0.1).
@Suite(.serialized) struct SIPServerRoutingTests {
    @Test func theDefaultWildcardAnswersOverIPv4AndIPv6() async throws {
        try await SIPServerTests.withServer(SIPServerConfiguration(host: "::", port: 0, transports: [.udp])) { _, udpPort, _ in
            var v4 = try LoopbackClient(udpTo: udpPort)
            try v4.send(request(id: 1, port: v4.localPort))
            let over4 = try SIPServerTests.response(await v4.receive())
            #expect(over4.statusCode == 302)
            // The source is the IPv4 address, not its IPv4-mapped IPv6 form.
            #expect(over4.values(.via).first?.contains("received=") == false, "\(over4.values(.via))")
            var v6 = try LoopbackClient(udp6To: udpPort)
            try v6.send(request(id: 2, port: v6.localPort))
            let over6 = try SIPServerTests.response(await v6.receive())
            #expect(over6.statusCode == 302)
            #expect(over6.values(.via).first?.contains("received=::1") == true, "\(over6.values(.via))")
        }
    }

    @Test func aRoutedInviteIsForwardedToTheCalleeAndItsResponseRelayedBack() async throws {
        let routing = SIPRouting(identity: SIPNodeIdentity(hosts: [.ipv4(0x7f00_0001)], port: 0),
                                 localNetworks: [SIPSubnet(network: .ipv4(0x7f00_0000), prefixLength: 8)])
        let configuration = SIPServerConfiguration(host: "127.0.0.1", port: 0, transports: [.udp], redirect: .init(routing: routing))
        try await SIPServerTests.withServer(configuration) { server, udpPort, _ in
            var caller = try LoopbackClient(udpTo: udpPort)
            var callee = try LoopbackClient(udpTo: udpPort)
            let invite = request(to: "sip:bob@127.0.0.1:\(callee.localPort)", id: 7, port: caller.localPort,
                                 extra: ["Route: <sip:127.0.0.1:\(udpPort);lr>"])
            try caller.send(invite)
            let forwardedBytes = try #require(await callee.receive(), "the callee got nothing")
            let forwarded = try SIPRequest(try SIPMessage.parse(forwardedBytes))
            #expect(forwarded.via.count == 2)
            #expect(forwarded.via[0].host == .ipv4(0x7f00_0001) && forwarded.via[0].port == UInt16(udpPort))
            #expect(forwarded.maxForwards == 69)
            #expect(forwarded.message.fields(.route).isEmpty)
            // The callee answers to the top Via (the gateway), which relays to the caller.
            var ringing = "SIP/2.0 180 Ringing\r\n"
            for via in forwarded.via { ringing += "Via: \(via.raw)\r\n" }
            ringing += "From: \(forwarded.from.raw)\r\nTo: \(forwarded.to.raw);tag=callee\r\nCall-ID: \(forwarded.callID)\r\n"
            ringing += "CSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n"
            try callee.send(Array(ringing.utf8))
            let relayed = try SIPServerTests.response(await caller.receive())
            #expect(relayed.statusCode == 180)
            #expect(relayed.values(.via).count == 1 && relayed.values(.via).first?.contains("branch=z9hG4bK-test-7") == true)
            #expect(server.metrics.snapshot().forwarded == 2)
        }
    }

    @Test func aRegisterOverLoopbackBindsAndTheRegistrationIsReported() async throws {
        let link = [SIPSubnet(network: .ipv4(0x7f00_0000), prefixLength: 8)]
        let routing = SIPRouting(identity: SIPNodeIdentity(hosts: [.ipv4(0x7f00_0001)], port: 0), localNetworks: link,
                                 registrar: Registrar.Configuration(localNetworks: link))
        let configuration = SIPServerConfiguration(host: "127.0.0.1", port: 0, transports: [.udp], redirect: .init(routing: routing))
        try await SIPServerTests.withServer(configuration) { server, udpPort, _ in
            var phone = try LoopbackClient(udpTo: udpPort)
            let register = request("REGISTER", to: "sip:127.0.0.1:\(udpPort)", id: 3, port: phone.localPort,
                                   extra: ["Contact: <sip:bob@127.0.0.1:\(phone.localPort)>", "Expires: 300"])
            try phone.send(register)
            let response = try SIPServerTests.response(await phone.receive())
            #expect(response.statusCode == 200)
            #expect(response.values(.contact).first?.hasPrefix("<sip:bob@127.0.0.1:\(phone.localPort)>;expires=") == true)
            let bindings = server.registrations()
            #expect(bindings.keys.map(\.description) == ["sip:127.0.0.1"], "the To of this request names no user")
            #expect(server.metrics.snapshot().registrations == 1)
        }
    }
}
