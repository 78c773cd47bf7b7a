import Foundation
import Testbed
import Testing

/// A SIP user agent (sipp's UAS) announced on island 3 in the draft's format
/// (draft-lee-sip-dns-sd-uri-03) is reachable by its address of record from island 1: island
/// 1's gateway answers an INVITE with 302 and the UA's contact on island 3, a call to that
/// contact completes (sipp's UAC: INVITE, 200, ACK, BYE), and once the UA withdraws the
/// gateway answers 404 within 2 s.
@Suite(.serialized) struct SIPIntegrationTests {
    @Test(.timeLimit(.minutes(2)), arguments: Engine.allCases)
    func anAoRAnnouncedOnOneIslandIsRedirectedToFromAnotherAndGoneWithIt(engine: Engine) async throws {
        try await Testbed.with(islands: 3, hosts: 2) { bed in
            // sipp's built-in UAS would take the gateways' OPTIONS probes (island 1's for the
            // contact it hands out, island 3's for its own UA) for its one call (-m 1):
            // live-contact checks are PhoneIntegrationTests' business.
            let gateways = [
                try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(3, h: 1), config: "[sip]\nprobe_contacts = false\n",
                                  engine: engine),
                try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1), engine: engine),
                try Gateway.start(bed, .i(3, h: 1), island: "three", seed: .i(1, h: 1), config: "[sip]\nprobe_contacts = false\n",
                                  engine: engine),
            ]
            // The UA itself: sipp's built-in UAS on the announced port.
            let uaAddress = bed.address(of: .i(3, h: 2)).v4
            let uas = try bed.spawn(.i(3, h: 2), ["bash", "-c",
                "mkdir -p \(bed.directory)/sipp-uas && cd \(bed.directory)/sipp-uas && exec sipp -sn uas -i \(uaAddress) -p 5070 -m 1 -nostdin"])
            let ua = try bed.spawn(.i(3, h: 2), [
                "avahi-publish", "-s", "sip:alice@example.org Alice's desk phone", "_sipuri._udp", "5070",
                "txtvers=1", "name=Alice Example", "contact=<sip:alice@alice-desk.local:5070>;audio",
            ])
            try await ua.waitForErrorLine(containing: "Established")
            let gateway = bed.address(of: .i(1, h: 1)).v4

            let redirected = try await pollValue(timeout: .seconds(60), every: .milliseconds(500), "a 302 for alice") {
                let answer = try await Self.invite(bed, from: .i(1, h: 2), to: gateway, aor: "alice@example.org")
                return answer.hasPrefix("SIP/2.0 302") ? answer : nil
            }
            #expect(redirected.contains("sip:alice@\(uaAddress):5070"), "\(redirected)")
            // `z2z sip` on island 1 lists the UA with its island and contact, once it is imported
            // (the 302 may come first, from the AoR's DHT key: on OpenDHT a get can beat the
            // subscription's notification).
            let alice = try await pollValue(timeout: .seconds(30), every: .milliseconds(500), "alice in `z2z sip`") { () -> [String: Any]? in
                let listed = try await bed.runChecked(.i(1, h: 1), [try BuildProducts.executable("z2z"), "sip", "--json"])
                let agents = (try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [String: Any])?["agents"] as? [[String: Any]]
                return agents?.first { $0["aor"] as? String == "sip:alice@example.org" }
            }
            #expect((alice["island"] as? [String: Any])?["name"] as? String == "three")
            #expect((alice["contacts"] as? [String])?.contains("sip:alice@\(uaAddress):5070") == true, "\(alice)")
            // The copy published on island 1 names a contact island 1 can reach, not alice-desk.local.
            let published = try await pollValue(timeout: .seconds(20), every: .milliseconds(500), "alice's imported TXT") { () -> String? in
                let browse = try await bed.runChecked(.i(1, h: 2), ["avahi-browse", "-rpkt", "_sipuri._udp"], timeout: .seconds(20))
                return browse.contains("contact=<sip:alice@") ? browse : nil
            }
            #expect(published.contains("\"contact=<sip:alice@\(uaAddress):5070>;audio\"") && !published.contains("alice-desk.local"),
                    "\(published)")
            let table = try await bed.runChecked(.i(1, h: 1), [try BuildProducts.executable("z2z"), "sip"])
            #expect(table.contains("sip:alice@example.org") && table.contains("three"), "\(table)")

            // sipp as the caller: INVITE to island 1's gateway, 302, ACK.
            let scenario = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Deploy/sipp/uac-redirect.xml").path
            let redirect = try await bed.run(.i(1, h: 2), ["bash", "-c",
                "mkdir -p \(bed.directory)/sipp-redirect && cd \(bed.directory)/sipp-redirect && sipp -sf \(scenario) -key domain example.org -s alice -i \(bed.address(of: .i(1, h: 2)).v4) -m 1 -nostdin -timeout 15s -timeout_error \(gateway):5060"],
                timeout: .seconds(30))
            #expect(redirect.exitCode == 0, "sipp INVITE to the gateway, expecting 302: \(redirect)")
            // The caller follows the redirect: a whole call (INVITE, 200, ACK, BYE) with the UA
            // at the contact the 302 gave, straight across the router.
            let call = try await bed.run(.i(1, h: 2), ["bash", "-c",
                "mkdir -p \(bed.directory)/sipp-uac && cd \(bed.directory)/sipp-uac && sipp -sn uac -s alice -i \(bed.address(of: .i(1, h: 2)).v4) -m 1 -nostdin -timeout 15s -timeout_error \(uaAddress):5070"],
                timeout: .seconds(30))
            #expect(call.exitCode == 0, "sipp call to the redirect's contact: \(call)")
            _ = try await uas.wait(timeout: .seconds(10))

            let unknown = try await Self.invite(bed, from: .i(1, h: 2), to: gateway, aor: "bob@example.org")
            #expect(unknown.hasPrefix("SIP/2.0 404"), "\(unknown)")

            let withdrawn = ContinuousClock.now
            ua.terminate()
            let gone = try await pollValue(timeout: .seconds(10), every: .milliseconds(100), "a 404 for alice") {
                try await Self.invite(bed, from: .i(1, h: 2), to: gateway, aor: "alice@example.org").hasPrefix("SIP/2.0 404")
                    ? ContinuousClock.now : nil
            }
            // The UA's gateway reads the goodbye off the wire (not a second later from its
            // avahi-daemon's cache); the leader of island 1 drops the import on the DHT's
            // tombstone. Measured here: 0.24 s.
            #expect(gone - withdrawn < .seconds(2), "404 after \(gone - withdrawn)")
            print("sip: 404 \(gone - withdrawn) after the UA withdrew")
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    /// Island 1's policy keeps SIP user agents off its link, yet its gateway redirects to a UA
    /// on island 2: the UA's leader binds it under `sip/<AoR>` in the DHT, and island 1's
    /// leader looks the AoR up there. The binding goes with the UA.
    @Test(.timeLimit(.minutes(2)), arguments: Engine.allCases)
    func anAoRKeptOffTheLinkByPolicyIsStillFoundUnderItsKey(engine: Engine) async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let denySIP = """
                [[policy.rule]]
                action = "deny"
                direction = "import"
                type = "_sipuri._udp"
                """
            let gateways = [
                try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(2, h: 1), config: denySIP, engine: engine),
                // Bob's phone is an announcement without a SIP stack: its home leader would
                // withdraw it once its OPTIONS went unanswered.
                try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1), config: "[sip]\nprobe_contacts = false\n",
                                  engine: engine),
            ]
            let uaAddress = bed.address(of: .i(2, h: 2)).v4
            let ua = try bed.spawn(.i(2, h: 2), [
                "avahi-publish", "-s", "sip:bob@example.org", "_sipuri._udp", "5070",
                "txtvers=1", "contact=<sip:bob@bob-desk.local:5070>;audio",
            ])
            try await ua.waitForErrorLine(containing: "Established")
            let gateway = bed.address(of: .i(1, h: 1)).v4
            let redirected = try await pollValue(timeout: .seconds(60), every: .milliseconds(500), "a 302 for bob") {
                let answer = try await Self.invite(bed, from: .i(1, h: 2), to: gateway, aor: "bob@example.org")
                return answer.hasPrefix("SIP/2.0 302") ? answer : nil
            }
            #expect(redirected.contains("sip:bob@\(uaAddress):5070"), "\(redirected)")
            // Not imported: island 1's link does not see the UA, nor does its gateway list it.
            let browse = try await bed.runChecked(.i(1, h: 2), ["avahi-browse", "-rpt", "_sipuri._udp"], timeout: .seconds(20))
            #expect(!browse.contains("bob@example.org"), "\(browse)")
            let listed = try await bed.runChecked(.i(1, h: 1), [try BuildProducts.executable("z2z"), "sip", "--json"])
            #expect(!listed.contains("bob@example.org"), "\(listed)")

            let withdrawn = ContinuousClock.now
            ua.terminate()
            let gone = try await pollValue(timeout: .seconds(10), every: .milliseconds(100), "a 404 for bob") {
                try await Self.invite(bed, from: .i(1, h: 2), to: gateway, aor: "bob@example.org").hasPrefix("SIP/2.0 404")
                    ? ContinuousClock.now : nil
            }
            #expect(gone - withdrawn < .seconds(2), "404 after \(gone - withdrawn)")
            print("sip: 404 through sip/<AoR> \(gone - withdrawn) after the UA withdrew")
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    /// Sends one INVITE for `aor` over UDP and returns the response's status line and Contact.
    static func invite(_ bed: Testbed, from host: HostRef, to gateway: String, aor: String) async throws -> String {
        let script = """
            import socket, sys, uuid
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.bind(("0.0.0.0", 0))
            port = s.getsockname()[1]; tag = uuid.uuid4().hex[:8]
            msg = ("INVITE sip:\(aor) SIP/2.0\\r\\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{tag}\\r\\n"
                   "Max-Forwards: 70\\r\\n"
                   f"From: <sip:caller@example.org>;tag={tag}\\r\\n"
                   "To: <sip:\(aor)>\\r\\n"
                   f"Call-ID: {tag}@test\\r\\n"
                   "CSeq: 1 INVITE\\r\\n"
                   f"Contact: <sip:caller@127.0.0.1:{port}>\\r\\n"
                   "Content-Length: 0\\r\\n\\r\\n")
            s.sendto(msg.encode(), ("\(gateway)", 5060))
            try:
                data = s.recv(65535).decode(errors="replace")
            except socket.timeout:
                print("timeout"); sys.exit(0)
            lines = data.split("\\r\\n")
            print(" | ".join([lines[0]] + [l for l in lines if l.lower().startswith(("contact:", "m:"))]))
            """
        return try await bed.runChecked(host, ["python3", "-c", script]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
