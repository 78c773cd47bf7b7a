import DNSSD
import Foundation
import Synchronization
import Testbed
import Testing

/// The rendezvous engine a test's gateways run (`[dht] engine`).
enum Engine: String, CaseIterable, Sendable {
    case native, opendht

    /// The UDP port a seed is given at: the DHT port, or OpenDHT's (DHT port + 2).
    var seedPort: Int { self == .native ? 7400 : 7402 }
}

/// A z2zd on a testbed host, with its own state directory, on the default ports.
struct Gateway {
    let host: HostRef
    let process: BackgroundProcess

    /// `config`: the text of a TOML configuration file for it (flags still override it);
    /// `engine`: the rendezvous engine (`[dht] engine`), added to that file.
    static func start(_ bed: Testbed, _ host: HostRef, island: String, seed: HostRef?, priority: Int = 100,
                      config: String? = nil, engine: Engine = .native) throws -> Gateway {
        var arguments = try daemonArguments(bed, host) + ["--island", island, "--priority", String(priority)]
        let text = (engine == .native ? "" : "[dht]\nengine = \"\(engine.rawValue)\"\n") + (config ?? "")
        if !text.isEmpty {
            let file = "\(bed.directory)/\(host)/z2z.toml"
            try FileManager.default.createDirectory(atPath: "\(bed.directory)/\(host)", withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            arguments += ["--config", file]
        }
        if let seed { arguments += ["--bootstrap", "\(seedAddress(bed, seed)):\(engine.seedPort)"] }
        return Gateway(host: host, process: try bed.spawn(host, arguments))
    }

    /// Where other gateways reach `seed`: its leg on the uplink segment when it has one
    /// (`Topology.uplink`: no LAN is routed), else its LAN address; IPv4, or IPv6 in
    /// brackets where it has no IPv4 (`Topology.ipv6Only`).
    static func seedAddress(_ bed: Testbed, _ seed: HostRef) -> String {
        let address = bed.uplinkAddress(of: seed) ?? bed.address(of: seed)
        return address.v4 == "-" ? "[\(address.v6)]" : address.v4
    }

    /// The start of every z2zd command line in these tests: the executable, the host's own
    /// state directory, and the network key all gateways of the testbed share (without it
    /// each would create its own and none would admit another).
    static func daemonArguments(_ bed: Testbed, _ host: HostRef) throws -> [String] {
        [try BuildProducts.executable("z2zd"), "--state-dir", "\(bed.directory)/\(host)/z2z",
         "--network-key-file", try bed.networkKeyFile()]
    }

    /// `z2z status --json` on the gateway's host, decoded loosely (the fields the tests read).
    /// With `degradedToo` a degraded gateway's status (exit 2: e.g. no other island) is read
    /// as well; otherwise that exit throws.
    func status(_ bed: Testbed, degradedToo: Bool = false) async throws -> [String: Any] {
        let command = [try BuildProducts.executable("z2z"), "status", "--json"]
        let output: String
        if degradedToo {
            let result = try await bed.run(host, command, timeout: .seconds(10))
            guard result.exitCode == 0 || result.exitCode == 2 else { throw TestbedError.commandFailed(result) }
            output = result.stdout
        } else {
            output = try await bed.runChecked(host, command, timeout: .seconds(10))
        }
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
    }

    /// The daemon's log so far (stderr), for failure messages.
    var log: String { process.errorOutput.suffix(40).joined(separator: "\n") }

    /// For a failure message: the log, and what the gateway and the avahi-daemon on its host
    /// say now (`z2z status`, `services`, `events`; `avahi-browse -arpt`, our own publications included).
    func diagnosis(_ bed: Testbed) async -> String {
        var parts = ["== \(host): log", log]
        for command in [["status"], ["services"], ["events"]] {
            let output = (try? await bed.runChecked(host, [try BuildProducts.executable("z2z")] + command, timeout: .seconds(10)))
            parts += ["== \(host): z2z \(command.joined(separator: " "))", output ?? "(failed)"]
        }
        let browse = try? await bed.runChecked(host, ["avahi-browse", "-arpt"], timeout: .seconds(10))
        parts += ["== \(host): avahi-browse -arpt", browse ?? "(failed)"]
        return parts.joined(separator: "\n")
    }
}
