import ArgumentParser

/// z2z's benchmark and test-peer executable.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "z2z-bench",
        abstract: "Measure z2z's DHT (and OpenDHT beside it), and run single DHT nodes for cross-process tests.",
        subcommands: [DHT.self, Islands.self, GatewaysCommand.self, Faults.self, EnginesCommand.self, NodeCommand.self]
    )
}

/// The DHT figures of BENCHMARKS.md.
struct DHT: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dht",
        abstract: "DHT benchmarks (simulated unless named udp-).",
        subcommands: [FormationCommand.self, LookupsCommand.self, MaintenanceCommand.self, ConsistencyCommand.self, ChurnCommand.self, UDPIdleCommand.self,
                       SybilCommand.self, UDPAdmissionCommand.self, SteadyStateCommand.self]
    )
}

/// Options every simulated benchmark takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "Number of nodes.") var nodes: Int?
    @Option(help: "Seed of the run; the same seed replays the same run.") var seed: UInt64 = 1
    @Option(help: "Also write the figures as JSON to this file.") var json: String?
}
