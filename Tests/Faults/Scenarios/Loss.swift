import Foundation
import Testbed

/// Datagram loss and delay on the islands' WAN links.
enum Loss {
    /// Loss on both islands' WAN links (nftables in the router), each `--percent` in turn:
    /// services published on island 1 must cross, and their withdrawals follow.
    static func run(_ lab: Lab, _ options: FaultOptions) async throws {
        let setup = try await TwoIslands.start(lab)
        let (home, remote) = (setup.watchers[0], setup.watchers[1])
        for percent in options.percent.values {
            try await lab.bed.loss(island: 1, percent: percent)
            try await lab.bed.loss(island: 2, percent: percent)
            var crossed = 0, withdrawn = 0
            var delays = TrialTimes() // remote minus local: what the islands between add
            for trial in 0..<options.trials {
                let name = "Loss \(percent) \(trial)"
                let start = ContinuousClock.now
                let publisher = try lab.publish(.i(1, h: 2), name)
                if try await waitUntil(options.limit, every: 0.05, { remote.view.names(ofType: Lab.type).contains(name) }) != nil {
                    let seen = ContinuousClock.now
                    crossed += 1
                    delays.append((seen - (home.view.first(.resolved, of: name, after: start) ?? start)).seconds)
                }
                await publisher.stop()
                if try await waitUntil(options.limit, every: 0.05, { !remote.view.names(ofType: Lab.type).contains(name) }) != nil {
                    withdrawn += 1
                }
            }
            let share = Double(crossed) / Double(options.trials)
            lab.figure(Figure("loss.p\(percent).crossed", .number(share),
                              "\(percent) % loss per WAN link (\(Format.fixed(100 * LossPlan.pathLoss(percent: percent), 1)) % per "
                                  + "datagram between the islands): \(crossed)/\(options.trials) services crossed within "
                                  + "\(Format.fixed(options.limit, 0)) s (remote - local median \(Format.seconds(delays.median)), max "
                                  + "\(Format.seconds(delays.max))); \(withdrawn)/\(options.trials) withdrawals followed",
                              target: ">= 99 % at 5 %, >= 95 % at 20 %",
                              met: share >= LossPlan.requiredCrossing(percent: percent)))
        }
        try await lab.bed.loss(island: 1, percent: 0)
        try await lab.bed.loss(island: 2, percent: 0)
    }

    /// Needs nft (Debian package nftables) for the loss rules.
    static func checkMachine() throws {
        guard Machine.has("nft") else { throw Unsupported("loss needs nft (Debian package nftables)") }
    }

    /// WAN delay needs the kernel's sch_netem, which the machines this was written on lack:
    /// the scenario only finds out whether netem is there.
    static func delay(_ lab: Lab, _ options: FaultOptions) async throws {
        let result = try await lab.bed.run(.router, ["tc", "qdisc", "add", "dev", "br1", "root", "netem", "delay", "100ms"])
        guard result.succeeded else {
            let reason = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw Unsupported("delay: this kernel has no netem qdisc (tc: \(reason)); nothing measured")
        }
        throw Unsupported("netem is available: delay scenario not written yet")
    }
}

/// What this machine has.
enum Machine {
    /// Whether `tool` is on PATH.
    static func has(_ tool: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }
}
