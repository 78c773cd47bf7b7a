import DNSSD
import Foundation
import Testbed
import Testing

/// The Avahi backend against real avahi-daemons in network namespaces (2 islands × 2 hosts).
///
/// The backend runs in the `z2z local` executable inside a testbed host, because a process
/// talks to the avahi-daemon of the namespace it runs in. Needs root.
@Suite(.timeLimit(.minutes(3)))
struct AvahiDomainIntegrationTests {
    static let printerName = "Lab Printer 3.1 (Raum Ä)"
    /// Wire order of the TXT strings avahi-publish is given below: a binary value, a key
    /// without `=`, and a plain pair.
    static let printerTXT: [[UInt8]] = [Array("bin=".utf8) + [0x01, 0xff, 0x80, 0x22, 0x5c], Array("flag".utf8), Array("a=b".utf8)]

    func z2z() throws -> String { try BuildProducts.executable("z2z") }

    /// `z2z local --json` on a host, decoded.
    func localView(_ bed: Testbed, _ host: HostRef, type: String) async throws -> [ServiceJSON] {
        let result = try await bed.run(host, [try z2z(), "local", "--json", "--type", type, "--timeout", "5"])
        guard result.succeeded else { throw TestbedError.commandFailed(result) }
        return try JSONDecoder().decode([ServiceJSON].self, from: Data(result.stdout.utf8))
    }

    /// Resolved lines of `avahi-browse -rpt -k TYPE` on a host.
    func avahiBrowse(_ bed: Testbed, _ host: HostRef, type: String) async throws -> [BrowseLine] {
        let output = try await bed.runChecked(host, ["avahi-browse", "-rpt", "-k", type])
        return try output.split(separator: "\n").filter { $0.hasPrefix("=") }.map { try BrowseLine(parsing: String($0)) }
    }

    @Test func avahiPublishedServiceIsSeenByTheSwiftBackendWithEveryFieldIdenticalAndNotOnAnotherIsland() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            // argv cannot carry raw bytes from Swift, so let bash build the binary TXT value.
            let publisher = try bed.spawn(.i(1, h: 1), [
                "bash", "-c", #"exec avahi-publish -s "$0" _ipp._tcp 631 "bin=$(printf '\001\377\200"\\')" flag a=b"#,
                Self.printerName,
            ])
            try await publisher.waitForErrorLine(timeout: .seconds(15)) { $0.contains("Established") }

            let seen = try await pollValue(timeout: .seconds(10), "printer in z2z local on i1h2") {
                try await localView(bed, .i(1, h: 2), type: "_ipp._tcp").first { $0.name == Self.printerName }
            }
            #expect(seen.type == "_ipp._tcp")
            #expect(seen.domain == "local")
            #expect(seen.port == 631)
            #expect(seen.host == bed.hostName(of: .i(1, h: 1)) + ".local")
            #expect(seen.txtStrings == Self.printerTXT)
            #expect(seen.txt.map(\.key) == ["bin", "flag", "a"])
            #expect(seen.txt[1].value == nil) // "flag": a key without '=' stays a boolean attribute
            #expect(seen.addresses.map(\.address).contains(bed.address(of: .i(1, h: 1)).v4))
            #expect(!seen.local && !seen.ourOwn)

            // The same fields as avahi-browse prints them on the same host.
            let reference = try await avahiBrowse(bed, .i(1, h: 2), type: "_ipp._tcp")
                .filter { $0.id.name.value == Self.printerName }
            #expect(!reference.isEmpty)
            for line in reference {
                let resolution = try #require(line.resolution)
                #expect(line.id.type.description == seen.type && line.id.domain.value == seen.domain)
                #expect(resolution.host.value == seen.host && resolution.port == seen.port)
                #expect(resolution.txt.strings == seen.txtStrings)
                #expect(seen.addresses.map(\.address).contains(resolution.address.description))
            }
            // The parsable output is avahi-browse's, line for line, for the IPv4 address.
            let parsable = try await bed.runChecked(.i(1, h: 2), [try z2z(), "local", "-p", "--type", "_ipp._tcp"])
            let referenceV4 = reference.first { $0.protocolName == "IPv4" && $0.resolution?.address.isIPv4 == true }
            if let referenceV4 {
                #expect(parsable.split(separator: "\n").map(String.init).contains(referenceV4.description))
            }

            // Island 2 is another link: nothing there.
            #expect(try await localView(bed, .i(2, h: 1), type: "_ipp._tcp").isEmpty)
        }
    }

    @Test func serviceOnASynthesizedHostIsSeenByAvahiBrowseWithThatAddressAndItsWithdrawalWithinTwoSeconds() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let name = "Remote Cam (Ä.1)"
            let foreign = "10.0.2.17" // a machine on no island: the address record points away
            let watcher = try bed.spawn(.i(1, h: 2), [try z2z(), "local", "--watch", "--json", "--type", "_rtsp._tcp"])
            try await watcher.waitForLine(containing: #""settled""#)
            let publisher = try bed.spawn(.i(1, h: 1), [
                try z2z(), "local", "publish", "--escaped", name, "_rtsp._tcp", "554",
                #"bin=\001\255\128"#, "flag", "a=b", "--subtype", "_cam",
                "--host", "cam-7.local", "--address", foreign,
            ])
            try await publisher.waitForLine(containing: "established", timeout: .seconds(15))

            let line = try await pollValue(timeout: .seconds(10), "camera in avahi-browse on i1h2") {
                try await avahiBrowse(bed, .i(1, h: 2), type: "_rtsp._tcp").first { $0.id.name.value == name }
            }
            let resolution = try #require(line.resolution)
            #expect(line.id.type.description == "_rtsp._tcp")
            #expect(resolution.host.value == "cam-7.local")
            #expect(resolution.address.description == foreign)
            #expect(resolution.port == 554)
            #expect(resolution.txt.strings == [Array("bin=".utf8) + [1, 255, 128], Array("flag".utf8), Array("a=b".utf8)])
            // The subtype is browsable, and no reverse record was made for the foreign address.
            let subtype = try await avahiBrowse(bed, .i(1, h: 2), type: "_cam._sub._rtsp._tcp")
            #expect(subtype.contains { $0.id.name.value == name })
            let reverse = try await bed.run(.i(1, h: 2), ["avahi-resolve", "-a", foreign], timeout: .seconds(15))
            #expect(!reverse.stdout.contains("cam-7"))
            #expect(try await avahiBrowse(bed, .i(2, h: 1), type: "_rtsp._tcp").isEmpty)

            try await watcher.waitForLine(timeout: .seconds(10)) { $0.contains(#""added""#) && $0.contains("cam-7.local") }
            let withdrawn = ContinuousClock.now
            publisher.terminate()
            try await watcher.waitForLine(timeout: .seconds(2)) { $0.contains(#""removed""#) }
            #expect(ContinuousClock.now - withdrawn < .seconds(2))
            #expect(try await publisher.wait(timeout: .seconds(5)).succeeded)
        }
    }

    @Test func publicationSurvivesAnAvahiRestartAndWaitsForADaemonThatIsNotYetRunning() async throws {
        try await Testbed.with(islands: 1, hosts: 2) { bed in
            // Not yet running: the publisher waits instead of failing.
            try await bed.killAvahi(.i(1, h: 1))
            let publisher = try bed.spawn(.i(1, h: 1), [try z2z(), "local", "publish", "Phoenix", "_http._tcp", "80"])
            try await publisher.waitForLine(containing: "connecting")
            try await bed.startAvahi(.i(1, h: 1))
            try await publisher.waitForLine(containing: "established", timeout: .seconds(15))
            try await poll(timeout: .seconds(10), "Phoenix visible on i1h2") {
                try await bed.runChecked(.i(1, h: 2), ["avahi-browse", "-pt", "-k", "_http._tcp"]).contains("Phoenix")
            }

            // Killed and restarted: visible again within 5 s of the daemon being back.
            try await bed.killAvahi(.i(1, h: 1))
            try await poll(timeout: .seconds(10), "Phoenix gone with its daemon") {
                try await !bed.runChecked(.i(1, h: 2), ["avahi-browse", "-pt", "-k", "_http._tcp"]).contains("Phoenix")
            }
            try await bed.startAvahi(.i(1, h: 1))
            let restarted = ContinuousClock.now
            try await poll(timeout: .seconds(5), "Phoenix visible again within 5 s") {
                try await bed.runChecked(.i(1, h: 2), ["avahi-browse", "-pt", "-k", "_http._tcp"]).contains("Phoenix")
            }
            #expect(ContinuousClock.now - restarted < .seconds(5))
            #expect(publisher.isRunning)
        }
    }

    /// A resolver avahi-daemon refused (issue 18, point 5: such a service stayed unknown for
    /// minutes while `avahi-browse -r` resolved it). The watching host's daemon holds one client
    /// to 6 objects and allows two clients: the browser, and room for two services' resolvers
    /// (two each) and their host's address browsers (two). A third service's resolvers are
    /// refused; once another service leaves, they are made again and the service is learned.
    @Test func aServiceWhoseResolversWereRefusedIsLearnedOnceThereIsRoom() async throws {
        try await Testbed.with(islands: 1, hosts: 2) { bed in
            try await bed.avahiLimits(.i(1, h: 2), objectsPerClient: 6, clients: 2)
            let watcher = try bed.spawn(.i(1, h: 2), [try z2z(), "local", "--watch", "-p", "--type", "_zres._tcp"])
            func resolved(_ name: String) -> Bool { watcher.output.contains { $0.hasPrefix("=") && $0.contains(";\(name);") } }
            var publishers: [BackgroundProcess] = []
            for name in ["Res1", "Res2", "Res3"] {
                publishers.append(try bed.spawn(.i(1, h: 1), ["avahi-publish", "-s", name, "_zres._tcp", "9000"]))
                try await publishers.last?.waitForErrorLine(timeout: .seconds(15)) { $0.contains("Established") }
                if name != "Res3" { try await poll(timeout: .seconds(10), "\(name) resolved") { resolved(name) } }
            }
            try await Task.sleep(for: .seconds(3))
            #expect(!resolved("Res3"), "its resolvers were refused: \(watcher.errorOutput.suffix(5))")
            await publishers[0].stop()
            let freed = ContinuousClock.now
            try await poll(timeout: .seconds(10), "Res3 resolved once Res1 left") { resolved("Res3") }
            print("Res3 resolved \(freed.duration(to: .now)) after Res1 was withdrawn")
            for process in publishers + [watcher] { await process.stop() }
        }
    }

    @Test func browserReconnectsAfterItsOwnDaemonRestartsAndSeesNewServices() async throws {
        try await Testbed.with(islands: 1, hosts: 2) { bed in
            let watcher = try bed.spawn(.i(1, h: 2), [try z2z(), "local", "--watch", "-p", "--type", "_http._tcp"])
            try await bed.restartAvahi(.i(1, h: 2))
            let publisher = try bed.spawn(.i(1, h: 1), ["avahi-publish", "-s", "After Restart", "_http._tcp", "8080"])
            try await publisher.waitForErrorLine(timeout: .seconds(15)) { $0.contains("Established") }
            try await watcher.waitForLine(timeout: .seconds(10)) { $0.hasPrefix("=") && $0.contains(#"After\032Restart"#) }
        }
    }

    /// avahi-daemon registers its host name again (here: a new name; in the field also a
    /// link that comes back), telling clients S_REGISTERING and then S_RUNNING: every entry
    /// group is reset meanwhile, and the backend commits its publications again — services on
    /// this host under its new name, services on a synthesized host unchanged. (A gateway
    /// whose link went down and came back once kept believing in imports avahi-daemon no
    /// longer announced.)
    @Test func publicationsComeBackAfterTheDaemonRegistersItsHostNameAgain() async throws {
        try await Testbed.with(islands: 1, hosts: 2) { bed in
            let own = try bed.spawn(.i(1, h: 1), [try z2z(), "local", "publish", "Own Host Svc", "_http._tcp", "80"])
            let remote = try bed.spawn(.i(1, h: 1), [
                try z2z(), "local", "publish", "Remote Svc", "_http._tcp", "81", "--host", "far-9.local", "--address", "10.0.2.17",
            ])
            for publisher in [own, remote] { try await publisher.waitForLine(containing: "established", timeout: .seconds(15)) }
            func resolved() async throws -> [String: String] {
                var hosts: [String: String] = [:]
                for line in try await avahiBrowse(bed, .i(1, h: 2), type: "_http._tcp") where line.protocolName == "IPv4" {
                    hosts[line.id.name.value] = line.resolution?.host.value
                }
                return hosts
            }
            let before = bed.hostName(of: .i(1, h: 1))
            try await poll(timeout: .seconds(10), "both services resolved on i1h2") {
                try await resolved() == ["Own Host Svc": "\(before).local", "Remote Svc": "far-9.local"]
            }
            let renamed = "\(before)-renamed"
            try await bed.runChecked(.i(1, h: 1), ["avahi-set-host-name", renamed])
            try await poll(timeout: .seconds(15), "both services resolved again, the own one under the new host name") {
                try await resolved() == ["Own Host Svc": "\(renamed).local", "Remote Svc": "far-9.local"]
            }
            // Meanwhile the publications said they were waiting, then established again.
            let states = own.output.filter { $0.contains("waiting") || $0.contains("established") }
            #expect(states.count >= 3 && states.dropFirst().first?.contains("waiting") == true && states.last?.contains("established") == true,
                    "\(own.output)")
            #expect(own.isRunning && remote.isRunning)
        }
    }

    @Test func badInputIsRefusedWithItsReasonAndNothingIsPublished() async throws {
        try await Testbed.with(islands: 1, hosts: 2) { bed in
            let cases: [(arguments: [String], reason: String)] = [
                ([String(repeating: "x", count: 64), "_ipp._tcp", "631"], "instance_name_too_long"),
                (["Too Long TXT", "_ipp._tcp", "631", "k=" + String(repeating: "v", count: 254)], "txt_string_too_long"),
                (["Bad Transport", "_ipp._sctp", "631"], "transport_invalid"),
                (["Bad Type", "ipp._tcp", "631"], "service_type_malformed"),
                (["Long Service Name", "_abcdefghijklmnop._tcp", "631"], "service_name_too_long"),
                (["Duplicate Key", "_ipp._tcp", "631", "a=1", "A=2"], "txt_duplicate_key"),
                (["Empty Key", "_ipp._tcp", "631", "=value"], "txt_key_empty"),
                (["No Address", "_ipp._tcp", "631", "--host", "x.local"], "--host needs at least one --address"),
                (["Bad Address", "_ipp._tcp", "631", "--host", "x.local", "--address", "10.0.0.300"], "address_malformed"),
            ]
            for (arguments, reason) in cases {
                let result = try await bed.run(.i(1, h: 1), [try z2z(), "local", "publish"] + arguments)
                #expect(!result.succeeded, "accepted: \(arguments)")
                #expect(result.stderr.contains(reason), "\(arguments): \(result.stderr)")
            }
            // A valid publication afterwards shows up alone: nothing of the refused ones.
            let publisher = try bed.spawn(.i(1, h: 1), [try z2z(), "local", "publish", "Marker", "_ipp._tcp", "631"])
            try await publisher.waitForLine(containing: "established", timeout: .seconds(15))
            let names = try await pollValue(timeout: .seconds(10), "marker seen") { () -> [String]? in
                let lines = try await bed.runChecked(.i(1, h: 2), ["avahi-browse", "-apt", "-k"])
                return lines.contains("Marker") ? lines.split(separator: "\n").map(String.init) : nil
            }
            #expect(names.allSatisfy { $0.contains("Marker") }, "\(names)")
        }
    }
}

/// The JSON `z2z local --json` prints (field names are part of the CLI's contract).
struct ServiceJSON: Decodable {
    struct TXT: Decodable {
        var key: String
        var value: String?
        var text: String?
    }

    struct Address: Decodable {
        var address: String
        var interface: String
    }

    var name: String
    var type: String
    var domain: String
    var host: String
    var port: UInt16
    var txt: [TXT]
    var subtypes: [String]
    var addresses: [Address]
    var local: Bool
    var ourOwn: Bool

    /// The TXT strings in wire order, rebuilt from key and base64 value.
    var txtStrings: [[UInt8]] {
        txt.map { entry in
            guard let value = entry.value, let bytes = Data(base64Encoded: value) else { return Array(entry.key.utf8) }
            return Array(entry.key.utf8) + [UInt8(ascii: "=")] + Array(bytes)
        }
    }
}

/// Publishing without probing (raw records): what a gateway uses for imported services.
@Suite(.timeLimit(.minutes(2)))
struct ImmediateAnnouncementIntegrationTests {
    @Test func unprobedServiceOnASynthesizedHostIsSeenWithIdenticalFieldsAndFasterThanAProbedOne() async throws {
        try await Testbed.with(islands: 1, hosts: 2) { bed in
            let z2z = try BuildProducts.executable("z2z")
            let watcher = try bed.spawn(.i(1, h: 2), ["avahi-browse", "-rpk", "_rtsp._tcp"])
            var delays: [String: Duration] = [:]
            for (name, flags) in [("Probed Cam", [String]()), ("Immediate Cam", ["--no-probe"])] {
                let started = ContinuousClock.now
                let publisher = try bed.spawn(.i(1, h: 1), [
                    z2z, "local", "publish", name, "_rtsp._tcp", "554", "a=1", "flag", "--subtype", "_cam",
                    "--host", "cam-\(flags.isEmpty ? "p" : "i").local", "--address", "10.0.2.17", "--address", "fd00::17",
                ] + flags)
                let escaped = AvahiEscaping.escapeLabel(name)
                let line = try await watcher.waitForLine(timeout: .seconds(10)) { $0.hasPrefix("=") && $0.contains(escaped) }
                delays[name] = ContinuousClock.now - started
                let resolved = try BrowseLine(parsing: line)
                #expect(resolved.resolution?.port == 554)
                #expect(resolved.resolution?.txt.strings == [Array("a=1".utf8), Array("flag".utf8)])
                #expect(["10.0.2.17", "fd00::17"].contains(resolved.resolution?.address.description ?? ""))
                #expect(resolved.resolution?.host.value == "cam-\(flags.isEmpty ? "p" : "i").local")
                let subtype = try await bed.runChecked(.i(1, h: 2), ["avahi-browse", "-pt", "-k", "_cam._sub._rtsp._tcp"])
                #expect(subtype.contains(escaped))
                publisher.terminate()
                _ = try await publisher.wait(timeout: .seconds(5))
            }
            // Probing alone takes about 0.75 s; an immediate announcement skips it.
            let probed = try #require(delays["Probed Cam"]), immediate = try #require(delays["Immediate Cam"])
            #expect(immediate + .milliseconds(400) < probed, "immediate \(immediate), probed \(probed)")
        }
    }
}
