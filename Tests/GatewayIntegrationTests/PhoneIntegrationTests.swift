import Foundation
import Testbed
import Testing

/// Real phones (baresip) set up the way phones usually are, on two islands.
///
/// Bob's phone on island 1 only registers with its island's gateway (no mDNS of its own,
/// Digest credentials from the gateway's `[sip.users]`);
/// Alice's phone on island 2 has its gateway as registrar and outbound proxy, and dials
/// `sip:bob@<island 2's gateway>`. The gateway of island 1 announces Bob's registration as
/// `_sipuri._udp`, exports it; island 2 imports it with Bob's routable contact; Alice's
/// gateway answers the INVITE for `bob@<gateway>` with 302, forwards the INVITE Alice sends
/// to the contact (stateless proxy), relays 180 and 200 back, forwards ACK and BYE; RTP
/// flows between the phones both ways. The same call with linphonec as the caller, too.
@Suite(.serialized) struct PhoneIntegrationTests {
    @Test(.timeLimit(.minutes(3)))
    func aPhoneRegisteredOnIslandOneTakesACallFromAPhoneBehindIslandTwosGateway() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let gateways = [
                // Island 1 wants a password: Bob's phone answers the Digest challenge.
                try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(2, h: 1), config: "[sip.users]\nbob = \"secret\"\n"),
                try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1)),
            ]
            let gatewayOne = bed.address(of: .i(1, h: 1)).v4
            let gatewayTwo = bed.address(of: .i(2, h: 1)).v4
            let bobAddress = bed.address(of: .i(1, h: 2)).v4

            let bob = try Self.baresip(bed, .i(1, h: 2), name: "bob",
                                       account: "<sip:bob@\(gatewayOne)>;auth_pass=secret;regint=60;answermode=auto")
            // Challenged (401), then registered.
            try await bob.waitForLine(timeout: .seconds(30)) { $0.contains("binding]") }
            #expect(bob.output.contains { $0.contains("SIP/2.0 401 Unauthorized") }, "no challenge came first")

            // Exported from island 1, imported on island 2: `sip:bob@<island 2's gateway>` gets a
            // 302 to Bob's contact on island 1, which island 2 can reach (no `.local` name).
            let redirected = try await pollValue(timeout: .seconds(60), every: .milliseconds(500), "a 302 for bob@gateway two") {
                let answer = try await SIPIntegrationTests.invite(bed, from: .i(2, h: 2), to: gatewayTwo, aor: "bob@\(gatewayTwo)")
                return answer.hasPrefix("SIP/2.0 302") ? answer : nil
            }
            #expect(redirected.contains("@\(bobAddress):5060"), "\(redirected)")
            let browse = try await bed.runChecked(.i(2, h: 2), ["avahi-browse", "-rpkt", "_sipuri._udp"], timeout: .seconds(20))
            // avahi-browse -p escapes the instance name (`sip\058bob\06410\.0...`); the TXT is plain.
            #expect(browse.contains("sip\\058bob\\064") && browse.contains("\"contact=<sip:bob") && browse.contains("@\(bobAddress):5060>"),
                    "\(browse)")

            // `z2z sip` on island 1 lists the registration.
            let registered = try await Self.sip(bed, .i(1, h: 1))
            let registrations = registered["registrations"] as? [[String: Any]] ?? []
            #expect(registrations.contains { $0["aor"] as? String == "sip:bob@\(gatewayOne)" && ($0["contact"] as? String)?.contains("@\(bobAddress):5060") == true },
                    "\(registered)")

            let alice = try Self.baresip(
                bed, .i(2, h: 2), name: "alice",
                account: "<sip:alice@\(gatewayTwo)>;regint=60;outbound=\"sip:\(gatewayTwo);lr\"",
                commands: ["/dial sip:bob@\(gatewayTwo)"])
            try await alice.waitForLine(containing: "Call established", timeout: .seconds(30))
            let rtp = try await Self.rtpBothWays(bed)
            _ = try await bed.runChecked(.i(2, h: 2), ["bash", "-c", "echo /hangup > /dev/udp/127.0.0.1/5555"])
            // Bob's phone gets the BYE and closes the call.
            try await bob.waitForLine(timeout: .seconds(15)) { $0.contains("terminated") || $0.contains("session closed") }
            // The SIP path of the call, from Alice's trace: the 302, then 180 and 200 through the gateway.
            let trace = alice.output.joined(separator: "\n")
            #expect(trace.contains("SIP/2.0 302") && trace.contains("SIP/2.0 180") && trace.contains("SIP/2.0 200"), "\(trace.suffix(3000))")
            #expect(trace.contains("BYE sip:bob"), "\(trace.suffix(3000))")
            let aliceSummary = alice.output.last { $0.contains("EX=BareSip;") } ?? "-"
            print("phones: call bob@\(gatewayTwo) → \(bobAddress): RTP datagrams received by alice \(rtp.0), by bob \(rtp.1); \(aliceSummary)")
            await alice.stop()
            // Island 2's gateway checks the contact it handed out; `z2z sip` shows it alive.
            let checked = try await pollValue(timeout: .seconds(15), every: .milliseconds(500), "bob's contact checked alive") { () -> [String: Any]? in
                let checks = try await Self.sip(bed, .i(2, h: 1))["contact_checks"] as? [[String: Any]] ?? []
                return checks.first { ($0["contact"] as? String)?.contains("@\(bobAddress):5060") == true && $0["health"] as? String == "alive" }
            }
            print("phones: island 2 checks \(checked)")

            // Bob's phone unplugged, no goodbye: the gateways' OPTIONS go unanswered, and within
            // 15 s a call to bob gets 480 (the contact is known dead) or 404 (the registrar
            // dropped the binding and island 2's import went with it).
            let unplugged = ContinuousClock.now
            try await bed.link(.i(1, h: 2), up: false)
            let refused = try await pollValue(timeout: .seconds(25), every: .milliseconds(250), "480 or 404 for bob") { () -> (String, Duration)? in
                let answer = try await SIPIntegrationTests.invite(bed, from: .i(2, h: 2), to: gatewayTwo, aor: "bob@\(gatewayTwo)")
                return answer.hasPrefix("SIP/2.0 480") || answer.hasPrefix("SIP/2.0 404") ? (answer, unplugged.duration(to: .now)) : nil
            }
            #expect(refused.1 <= .seconds(15), "\(refused.0) after \(refused.1)")
            print("phones: unplugged bob: '\(refused.0)' after \(refused.1)")
            await bob.stop()
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    /// With `[sip] mode = "proxy"` on island 2, its gateway forwards Alice's INVITE for
    /// `bob@<gateway>` to Bob's contact itself: no 302 reaches Alice, the call and RTP work.
    @Test(.timeLimit(.minutes(3)))
    func inProxyModeTheGatewayForwardsTheCallWithoutA302() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let gateways = [
                try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(2, h: 1)),
                try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1), config: "[sip]\nmode = \"proxy\"\n"),
            ]
            let gatewayOne = bed.address(of: .i(1, h: 1)).v4
            let gatewayTwo = bed.address(of: .i(2, h: 1)).v4
            let bobAddress = bed.address(of: .i(1, h: 2)).v4
            let bob = try Self.baresip(bed, .i(1, h: 2), name: "bobp", account: "<sip:bob@\(gatewayOne)>;regint=60;answermode=auto")
            try await bob.waitForLine(timeout: .seconds(30)) { $0.contains("binding]") }
            _ = try await pollValue(timeout: .seconds(60), every: .milliseconds(500), "bob's registration on island 2") { () -> Bool? in
                let browse = try await bed.runChecked(.i(2, h: 2), ["avahi-browse", "-rpkt", "_sipuri._udp"], timeout: .seconds(20))
                return browse.contains("@\(bobAddress):5060>") ? true : nil
            }
            let alice = try Self.baresip(
                bed, .i(2, h: 2), name: "alicep", account: "<sip:alice@\(gatewayTwo)>;regint=60;outbound=\"sip:\(gatewayTwo);lr\"",
                commands: ["/dial sip:bob@\(gatewayTwo)"])
            try await alice.waitForLine(containing: "Call established", timeout: .seconds(30))
            let rtp = try await Self.rtpBothWays(bed)
            let trace = alice.output.joined(separator: "\n")
            #expect(!trace.contains("SIP/2.0 302") && trace.contains("SIP/2.0 180") && trace.contains("SIP/2.0 200"), "\(trace.suffix(3000))")
            // Bob saw the INVITE with island 2's gateway's Via on top of Alice's.
            let bobTrace = bob.output.joined(separator: "\n")
            #expect(bobTrace.contains("Via: SIP/2.0/UDP \(gatewayTwo):5060;branch=z9hG4bKz2z"), "\(bobTrace.suffix(3000))")
            _ = try await bed.runChecked(.i(2, h: 2), ["bash", "-c", "echo /hangup > /dev/udp/127.0.0.1/5555"])
            try await bob.waitForLine(timeout: .seconds(15)) { $0.contains("terminated") || $0.contains("session closed") }
            print("phones: proxied call bob@\(gatewayTwo) → \(bobAddress): RTP datagrams received by alice \(rtp.0), by bob \(rtp.1)")
            await alice.stop()
            await bob.stop()
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    /// The same call over IPv6 only: both phones register and send over IPv6 (`baresip -6`),
    /// the gateways' dual-stack socket takes REGISTER and INVITE on their IPv6 addresses,
    /// the 302 names Bob's IPv6 contact, and the gateway forwards and relays over IPv6.
    @Test(.timeLimit(.minutes(3)))
    func overIPv6APhoneRegisteredOnIslandOneTakesACallFromIslandTwo() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let gateways = [
                try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(2, h: 1)),
                try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1)),
            ]
            let gatewayOne = "[\(bed.address(of: .i(1, h: 1)).v6)]"
            let gatewayTwo = "[\(bed.address(of: .i(2, h: 1)).v6)]"
            let bobAddress = bed.address(of: .i(1, h: 2)).v6
            let bob = try Self.baresip(bed, .i(1, h: 2), name: "bob6", account: "<sip:bob@\(gatewayOne)>;regint=60;answermode=auto",
                                       ipv6: true)
            try await bob.waitForLine(timeout: .seconds(30)) { $0.contains("binding]") }
            // Island 2 has imported the registration before Alice dials (a 302 needs it).
            _ = try await pollValue(timeout: .seconds(60), every: .milliseconds(500), "bob's registration on island 2") { () -> Bool? in
                let browse = try await bed.runChecked(.i(2, h: 2), ["avahi-browse", "-rpkt", "_sipuri._udp"], timeout: .seconds(20))
                return browse.contains("\"contact=<sip:bob") && browse.contains("@[\(bobAddress)]:5060>") ? true : nil
            }
            let alice = try Self.baresip(
                bed, .i(2, h: 2), name: "alice6", account: "<sip:alice@\(gatewayTwo)>;regint=60;outbound=\"sip:\(gatewayTwo);lr\"",
                commands: ["/dial sip:bob@\(gatewayTwo)"], ipv6: true)
            try await alice.waitForLine(containing: "Call established", timeout: .seconds(30))
            let rtp = try await Self.rtpBothWays(bed, ipv6: true)
            let trace = alice.output.joined(separator: "\n")
            #expect(trace.contains("SIP/2.0 302") && trace.contains("SIP/2.0 180") && trace.contains("SIP/2.0 200"), "\(trace.suffix(3000))")
            #expect(trace.contains("@[\(bobAddress)]:5060"), "the 302 names Bob's IPv6 contact")
            _ = try await bed.runChecked(.i(2, h: 2), ["bash", "-c", "echo /hangup > /dev/udp/127.0.0.1/5555"])
            try await bob.waitForLine(timeout: .seconds(15)) { $0.contains("terminated") || $0.contains("session closed") }
            print("phones: IPv6 call bob@\(gatewayTwo) → [\(bobAddress)]: RTP datagrams received by alice \(rtp.0), by bob \(rtp.1)")
            await alice.stop()
            await bob.stop()
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    /// A plain `_sip._udp` UA on island 1 (AoR from TXT `user` and its host) shows on island 2
    /// as imported (`_sip._udp` with `aor` and a contact island 2 reaches) and as the draft's
    /// `_sipuri._udp` twin; `sip:carol@<island 2's gateway>` is redirected to it; both go with it.
    @Test(.timeLimit(.minutes(2)))
    func aPlainSIPUAIsImportedWithAReachableContactAndADraftFormatTwin() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let gateways = [
                try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(2, h: 1), config: "[sip]\nprobe_contacts = false\n"),
                try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1), config: "[sip]\nprobe_contacts = false\n"),
            ]
            let carolAddress = bed.address(of: .i(1, h: 2)).v4
            let gatewayTwo = bed.address(of: .i(2, h: 1)).v4
            let ua = try bed.spawn(.i(1, h: 2), ["avahi-publish", "-s", "Carol's softphone", "_sip._udp", "5070", "user=carol"])
            try await ua.waitForErrorLine(containing: "Established")
            let twin = try await pollValue(timeout: .seconds(60), every: .milliseconds(500), "carol's _sipuri twin on island 2") { () -> String? in
                let browse = try await bed.runChecked(.i(2, h: 2), ["avahi-browse", "-rpkt", "_sipuri._udp"], timeout: .seconds(20))
                return browse.split(separator: "\n").first { $0.hasPrefix("=") && $0.contains("contact=<sip:carol@") }.map(String.init)
            }
            #expect(twin.contains("\"contact=<sip:carol@\(carolAddress):5070>\"") && twin.contains("sip\\058carol\\064"), "\(twin)")
            let plain = try await bed.runChecked(.i(2, h: 2), ["avahi-browse", "-rpkt", "_sip._udp"], timeout: .seconds(20))
            #expect(plain.contains("\"aor=sip:carol@"), "\(plain)")
            let redirected = try await SIPIntegrationTests.invite(bed, from: .i(2, h: 2), to: gatewayTwo, aor: "carol@\(gatewayTwo)")
            #expect(redirected.hasPrefix("SIP/2.0 302") && redirected.contains("sip:carol@\(carolAddress):5070"), "\(redirected)")

            ua.terminate()
            _ = try await pollValue(timeout: .seconds(20), every: .milliseconds(500), "carol's twin withdrawn") { () -> Bool? in
                let browse = try await bed.runChecked(.i(2, h: 2), ["avahi-browse", "-rpkt", "_sipuri._udp"], timeout: .seconds(20))
                return browse.contains("contact=<sip:carol@") ? nil : true
            }
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    /// The same call with linphonec as the caller (liblinphone, driven headless through its
    /// command line): it registers with island 2's gateway, routes through it (outbound proxy)
    /// and calls `sip:bob@<gateway>`: 302, then the INVITE through the gateway to Bob's
    /// contact, 180, 200, ACK, RTP both ways, BYE.
    @Test(.timeLimit(.minutes(3)))
    func linphonecBehindIslandTwosGatewayCallsAPhoneRegisteredOnIslandOne() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let gateways = [
                try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(2, h: 1)),
                try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1)),
            ]
            let gatewayOne = bed.address(of: .i(1, h: 1)).v4
            let gatewayTwo = bed.address(of: .i(2, h: 1)).v4
            let bobAddress = bed.address(of: .i(1, h: 2)).v4
            let bob = try Self.baresip(bed, .i(1, h: 2), name: "bobl", account: "<sip:bob@\(gatewayOne)>;regint=60;answermode=auto")
            try await bob.waitForLine(timeout: .seconds(30)) { $0.contains("binding]") }
            _ = try await pollValue(timeout: .seconds(60), every: .milliseconds(500), "bob's registration on island 2") { () -> Bool? in
                try await Self.browse(bed, .i(2, h: 2)).contains("@\(bobAddress):5060>") ? true : nil
            }
            let alice = try Linphonec.start(bed, .i(2, h: 2), user: "alice", gateway: gatewayTwo)
            _ = try await pollValue(timeout: .seconds(20), every: .milliseconds(250), "linphonec registered") {
                alice.trace.contains("to [LinphoneRegistrationOk]") ? true : nil
            }
            try await alice.send("soundcard use files", "call sip:bob@\(gatewayTwo)")
            _ = try await alice.process.waitForLine(timeout: .seconds(30)) { $0.contains("Media streams established") }
            try await alice.send("play \(alice.tone)")
            let rtp = try await Self.rtpBothWays(bed)
            try await alice.send("terminate")
            try await bob.waitForLine(timeout: .seconds(15)) { $0.contains("terminated") || $0.contains("session closed") }
            let trace = alice.trace
            for line in ["INVITE sip:bob@\(gatewayTwo) ", "SIP/2.0 302", "INVITE sip:bob", "SIP/2.0 180", "ACK sip:bob", "BYE sip:bob"] {
                #expect(trace.contains(line), "no \(line) in linphonec's trace")
            }
            #expect(trace.split(separator: "\n").contains { $0.hasPrefix("SIP/2.0 200") }, "no 200 in linphonec's trace")
            print("phones: linphonec call bob@\(gatewayTwo) → \(bobAddress): RTP datagrams received by linphonec \(rtp.0), by bob \(rtp.1)")
            await alice.quit()
            await bob.stop()
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    /// A UA announced over mDNS on island 1 (sipp's UAS, which answers OPTIONS itself) and
    /// imported on island 2 is unplugged without a goodbye, so island 1's link still holds its
    /// records: island 1's leader, the UA's home, finds that it stopped answering OPTIONS and
    /// withdraws it from the DHT, and its import leaves island 2's link within 15 s plus the
    /// crossing. `z2z sip` and `z2z explain` on island 1 say why. Plugged in again, it answers,
    /// is exported again and comes back on island 2.
    @Test(.timeLimit(.minutes(3)))
    func anAnnouncedUAUnpluggedWithoutAGoodbyeIsWithdrawnByItsHomeLeader() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let gateways = [
                try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(2, h: 1)),
                try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1)),
            ]
            let daveAddress = bed.address(of: .i(1, h: 2)).v4
            let instance = "sip:dave@example.org Dave's phone"
            // No -m: the gateway's OPTIONS count as calls to sipp; -aa answers them with 200.
            let uas = try bed.spawn(.i(1, h: 2), ["bash", "-c",
                "mkdir -p \(bed.directory)/sipp-dave && cd \(bed.directory)/sipp-dave && exec sipp -sn uas -aa -i \(daveAddress) -p 5070 -nostdin"])
            let ua = try bed.spawn(.i(1, h: 2), [
                "avahi-publish", "-s", instance, "_sipuri._udp", "5070", "txtvers=1", "contact=<sip:dave@dave-phone.local:5070>;audio",
            ])
            try await ua.waitForErrorLine(containing: "Established")
            let contact = "@\(daveAddress):5070>"
            _ = try await pollValue(timeout: .seconds(60), every: .milliseconds(500), "dave imported on island 2") { () -> Bool? in
                try await Self.browse(bed, .i(2, h: 2)).contains(contact) ? true : nil
            }
            // Island 1's leader checks its own UA (nobody was redirected to it yet).
            _ = try await pollValue(timeout: .seconds(20), every: .milliseconds(500), "dave checked alive on island 1") { () -> Bool? in
                try await Self.check(bed, .i(1, h: 1), daveAddress)?["health"] as? String == "alive" ? true : nil
            }

            // Unplugged: no goodbye reaches island 1's link, whose caches keep Dave's records.
            let unplugged = ContinuousClock.now
            try await bed.link(.i(1, h: 2), up: false)
            // Island 1's checks find him dead, then island 2's link loses the import.
            var dead: Duration?
            let gone = try await pollValue(timeout: .seconds(40), every: .milliseconds(250), "dave's import gone from island 2") { () -> Duration? in
                if dead == nil, try await Self.check(bed, .i(1, h: 1), daveAddress)?["health"] as? String == "dead" {
                    dead = unplugged.duration(to: .now)
                }
                return try await Self.browse(bed, .i(2, h: 2)).contains(contact) ? nil : unplugged.duration(to: .now)
            }
            let crossing = dead.map { gone - $0 } ?? .zero
            print("phones: unplugged dave: dead on island 1 after \(dead.map { "\($0)" } ?? "-"), gone from island 2 after \(gone) (crossing \(crossing))")
            #expect(dead.map { $0 <= .seconds(15) } == true, "dead after \(String(describing: dead))")
            #expect(gone <= .seconds(15) + .seconds(3), "gone from island 2 after \(gone)")
            // Island 1 still sees Dave on its link and says why he no longer crosses.
            let explained = try await bed.run(.i(1, h: 1), [try BuildProducts.executable("z2z"), "explain", "\(instance)._sipuri._udp"],
                                              timeout: .seconds(15))
            #expect(explained.stdout.contains("stopped answering OPTIONS"), "\(explained)")
            let json = try await bed.run(.i(1, h: 1), [try BuildProducts.executable("z2z"), "explain", "\(instance)._sipuri._udp", "--json"],
                                         timeout: .seconds(15))
            #expect(json.stdout.contains("\"not_answering\""), "\(json)")

            // Plugged in again: the next check (every 15 s while dead) finds him, and he crosses again.
            let replugged = ContinuousClock.now
            try await bed.link(.i(1, h: 2), up: true)
            let back = try await pollValue(timeout: .seconds(45), every: .milliseconds(500), "dave back on island 2") { () -> Duration? in
                try await Self.browse(bed, .i(2, h: 2)).contains(contact) ? replugged.duration(to: .now) : nil
            }
            print("phones: replugged dave: back on island 2 after \(back)")
            uas.kill()
            ua.terminate()
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    /// `avahi-browse -rpkt _sipuri._udp` on `host`.
    static func browse(_ bed: Testbed, _ host: HostRef) async throws -> String {
        try await bed.runChecked(host, ["avahi-browse", "-rpkt", "_sipuri._udp"], timeout: .seconds(20))
    }

    /// The contact check of `address`'s contacts in `z2z sip --json` on a gateway's host.
    static func check(_ bed: Testbed, _ host: HostRef, _ address: String) async throws -> [String: Any]? {
        let checks = try await sip(bed, host)["contact_checks"] as? [[String: Any]] ?? []
        return checks.first { ($0["contact"] as? String)?.contains("@\(address):") == true }
    }

    /// A baresip on `host` with its SIP trace on stdout (line-buffered), IPv4 only, a sine as
    /// microphone, no sound card, the RTCP summary at the end of each call, and a UDP console
    /// on 127.0.0.1:5555 that takes the same commands as `-e`.
    static func baresip(_ bed: Testbed, _ host: HostRef, name: String, account: String, commands: [String] = [],
                        ipv6: Bool = false) throws -> BackgroundProcess {
        let directory = "\(bed.directory)/baresip-\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let address = ipv6 ? "[\(bed.address(of: host).v6)]" : bed.address(of: host).v4
        let config = """
            poll_method epoll
            sip_listen \(address):5060
            audio_player aubridge,nil
            audio_source ausine,440
            audio_alert aubridge,nil
            ausrc_srate 48000
            auplay_srate 48000
            ausrc_channels 2
            auplay_channels 1
            rtp_ports 20000-20100
            module_path /usr/lib/baresip/modules
            module g711.so
            module ausine.so
            module aubridge.so
            module cons.so
            module rtcpsummary.so
            module_app account.so
            module_app menu.so
            cons_listen 127.0.0.1:5555

            """
        try config.write(toFile: "\(directory)/config", atomically: true, encoding: .utf8)
        try (account + "\n").write(toFile: "\(directory)/accounts", atomically: true, encoding: .utf8)
        return try bed.spawn(host, ["stdbuf", "-oL", "baresip", ipv6 ? "-6" : "-4", "-s", "-f", directory] + commands.flatMap { ["-e", $0] })
    }

    /// `z2z sip --json` on a gateway's host, decoded loosely.
    static func sip(_ bed: Testbed, _ host: HostRef) async throws -> [String: Any] {
        let output = try await bed.runChecked(host, [try BuildProducts.executable("z2z"), "sip", "--json"], timeout: .seconds(10))
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
    }

    /// RTP both ways between the caller on i2h2 and the callee on i1h2: at least 100 UDP
    /// datagrams received by each host from now on (50 a second; a call's SIP messages are a
    /// dozen), counted in the kernel, no capture needed. Returns (caller's, callee's).
    static func rtpBothWays(_ bed: Testbed, ipv6: Bool = false) async throws -> (Int, Int) {
        let hosts: (HostRef, HostRef) = (.i(2, h: 2), .i(1, h: 2))
        let before = try await (udpDatagramsReceived(bed, hosts.0, ipv6: ipv6), udpDatagramsReceived(bed, hosts.1, ipv6: ipv6))
        return try await pollValue(timeout: .seconds(20), every: .milliseconds(250), "RTP both ways\(ipv6 ? " over IPv6" : "")") {
            () -> (Int, Int)? in
            let now = try await (udpDatagramsReceived(bed, hosts.0, ipv6: ipv6), udpDatagramsReceived(bed, hosts.1, ipv6: ipv6))
            let received = (now.0 - before.0, now.1 - before.1)
            return received.0 >= 100 && received.1 >= 100 ? received : nil
        }
    }

    /// UDP datagrams the host's namespace received so far (`Udp: InDatagrams` of /proc/net/snmp;
    /// over IPv6 `Udp6InDatagrams` of /proc/net/snmp6).
    static func udpDatagramsReceived(_ bed: Testbed, _ host: HostRef, ipv6: Bool = false) async throws -> Int {
        if ipv6 {
            let snmp6 = try await bed.runChecked(host, ["cat", "/proc/net/snmp6"])
            let line = snmp6.split(separator: "\n").first { $0.hasPrefix("Udp6InDatagrams") }
            return line.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).last }.flatMap { Int($0) } ?? 0
        }
        let snmp = try await bed.runChecked(host, ["cat", "/proc/net/snmp"])
        let lines = snmp.split(separator: "\n").filter { $0.hasPrefix("Udp: ") }
        guard lines.count >= 2 else { return 0 }
        let names = lines[0].split(separator: " ")
        let values = lines[1].split(separator: " ")
        guard let column = names.firstIndex(of: "InDatagrams"), column < values.count else { return 0 }
        return Int(values[column]) ?? 0
    }
}
