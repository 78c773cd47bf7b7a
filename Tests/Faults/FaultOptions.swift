import ArgumentParser
import Foundation

/// A fault scenario of `Deploy/faults`: its name on the command line, what it shows, the
/// testbed it needs and the function that runs it.
public enum Scenario: String, CaseIterable, Sendable, ExpressibleByArgument {
    case leaderKill = "leader-kill"
    case wanCut = "wan-cut"
    case sigterm
    case sigkill
    case avahiRestart = "avahi-restart"
    case dbusRestart = "dbus-restart"
    case linkFlap = "link-flap"
    case clockSkew = "clock-skew"
    case loss
    case delay
    case loops
    case soak
    case followerSeed = "follower-seed"
    case killWithdraw = "kill-withdraw"

    public var summary: String {
        switch self {
        case .leaderKill: "kill -9 of an island's leader: new leader, imports back on the island"
        case .wanCut: "cut an island's WAN link, change services on both sides, heal: views equal truth"
        case .sigterm: "SIGTERM of a leader with N imports: mDNS goodbyes seen by a raw listener"
        case .sigkill: "kill -9 of an island's only gateway: remote islands drop its services by expiry"
        case .avahiRestart: "restart avahi-daemon on a leader's host: the gateway recovers and re-imports"
        case .dbusRestart: "restart dbus-daemon (and with it avahi-daemon) on a leader's host"
        case .linkFlap: "take a leader's link down and up again"
        case .clockSkew: "leaders with wall clocks 5 min ahead and behind (Z2Z_TEST_CLOCK_OFFSET_SECONDS)"
        case .loss: "datagram loss on the islands' WAN links (nftables): services still cross"
        case .delay: "WAN delay (needs sch_netem in the kernel)"
        case .loops: "two gateways on one island and an avahi reflector: re-exports, renames, duplicates"
        case .soak: "churn, loss and service flapping for a long time: memory, descriptors, final views"
        case .followerSeed: "an island whose only seed is another island's follower"
        case .killWithdraw: "withdrawals on an island whose leader was just killed (-9), seen elsewhere"
        }
    }

    /// Islands and hosts per island of the scenario's testbed.
    public var testbed: (islands: Int, hosts: Int) {
        switch self {
        case .leaderKill, .killWithdraw: (2, 3)
        case .wanCut, .followerSeed: (3, 2)
        case .sigterm, .sigkill, .avahiRestart, .dbusRestart, .linkFlap, .loss: (2, 2)
        case .clockSkew, .loops, .soak: (3, 3)
        case .delay: (1, 1)
        }
    }

    /// Throws `Unsupported` when this machine lacks what the scenario needs, before any
    /// testbed is built.
    func checkMachine() throws {
        if self == .loss { try Loss.checkMachine() }
    }

    func run(_ lab: Lab, _ options: FaultOptions) async throws {
        switch self {
        case .leaderKill: try await Failover.leaderKill(lab, options)
        case .killWithdraw: try await Failover.killWithdraw(lab, options)
        case .wanCut: try await Partitions.wanCut(lab, options)
        case .linkFlap: try await Partitions.linkFlap(lab, options)
        case .sigterm: try await Shutdown.sigterm(lab, options)
        case .sigkill: try await Shutdown.sigkill(lab, options)
        case .avahiRestart: try await DaemonRestarts.avahi(lab, options)
        case .dbusRestart: try await DaemonRestarts.dbus(lab, options)
        case .clockSkew: try await ClockSkew.run(lab, options)
        case .loss: try await Loss.run(lab, options)
        case .delay: try await Loss.delay(lab, options)
        case .loops: try await Loops.run(lab, options)
        case .soak: try await Soak.run(lab, options)
        case .followerSeed: try await FollowerSeed.run(lab, options)
        }
    }
}

/// `--percent 1,5,20`: loss percentages, each 0…100.
public struct Percentages: Equatable, Sendable, ExpressibleByArgument {
    public var values: [Int]

    public init(_ values: [Int]) {
        self.values = values
    }

    public init?(argument: String) {
        let values = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0.map { (0...100).contains($0) } ?? false }) else { return nil }
        self.values = values.map { $0! }
    }

    public var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }
}

/// The command line of `Deploy/faults`: one scenario and the options that shape it (each
/// option names the scenarios that read it).
public struct FaultOptions: ParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "Deploy/faults",
        abstract: "Fault injection on real z2zd processes in network namespaces.",
        usage: "sudo Deploy/faults SCENARIO [--bin DIR] [--json FILE] [options]",
        discussion: """
            Each SCENARIO builds its own testbed (Deploy/testbed: islands of hosts with their own \
            avahi-daemon and dbus-daemon, joined by a router that forwards unicast only), runs z2zd \
            gateways there, injects one kind of fault, measures, prints one line per figure and tears \
            everything down (also on failure or Ctrl-C). Needs root. Figures go to RELIABILITY.md. \
            Z2Z_FAULTS_KEEP=1 keeps the testbed for a look afterwards.

            Scenarios:
            \(Scenario.allCases.map { "  " + $0.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + $0.summary }
                .joined(separator: "\n"))

            Exit status: 0 when every target of the scenario was met, 1 when one was missed, 2 on a \
            usage error, 77 when the machine cannot run the scenario.
            """)

    @Argument(help: "The scenario to run.")
    public var scenario: Scenario

    @Option(help: "Directory with z2zd and z2z (default .build/release, else .build/debug).")
    public var bin: String?

    @Option(help: "Also write the figures to this file.")
    public var json: String?

    @Option(help: "Repetitions (leader-kill, kill-withdraw, wan-cut, restarts, loss).")
    public var trials = 5

    @Option(help: "Services (sigterm, sigkill).")
    public var services = 100

    @Option(help: "Length of the WAN cut in seconds (wan-cut).")
    public var cutSeconds: Double = 60

    @Option(help: "Link down time in seconds (link-flap).")
    public var downSeconds: Double = 30

    @Option(help: "Seconds to wait for a recovery before calling it missed.")
    public var limit: Double = 60

    @Option(help: "Loss percentages per WAN link, comma-separated (loss).")
    public var percent = Percentages([1, 5, 20])

    @Option(help: "Run time in minutes (loops: 60, soak: 30).")
    public var minutes: Double?

    @Option(help: "Seconds between checks (loops).")
    public var every: Double = 10

    @Option(help: "Checks between failovers on island 1 (loops; 0: none).")
    public var failoverEvery = 30

    @Option(help: "Warm-up minutes before memory is compared (soak).")
    public var warmup: Double = 5

    @Option(help: "Seconds between gateway kills (soak).")
    public var churnEvery: Double = 20

    @Option(help: "Seconds between service flaps (soak).")
    public var flapEvery: Double = 1

    @Option(help: "Distinct flapping service names (soak).")
    public var flappers = 20

    @Option(help: "Seconds between memory samples (soak).")
    public var sampleEvery: Double = 30

    @Option(help: "Loss percent on island 2's WAN link (soak).")
    public var loss = 5

    @Option(help: "Seed of the random choices (soak).")
    public var seed: UInt64 = 1

    public init() {}

    /// `--minutes`, or the scenario's own default: 60 for loops, 30 otherwise.
    public var runMinutes: Double { minutes ?? (scenario == .loops ? 60 : 30) }

    public func validate() throws {
        guard trials >= 1 else { throw ValidationError("--trials must be at least 1") }
        guard services >= 1 else { throw ValidationError("--services must be at least 1") }
        guard flappers >= 1 else { throw ValidationError("--flappers must be at least 1") }
        guard (0...100).contains(loss) else { throw ValidationError("--loss must be 0..100") }
        guard failoverEvery >= 0 else { throw ValidationError("--failover-every must be 0 or more") }
        for (name, value) in [("--cut-seconds", cutSeconds), ("--down-seconds", downSeconds), ("--limit", limit),
                              ("--every", every), ("--warmup", warmup), ("--flap-every", flapEvery)]
        where !(value >= 0 && value.isFinite) {
            throw ValidationError("\(name) must be a number of 0 or more")
        }
        for (name, value) in [("--minutes", minutes ?? 1), ("--churn-every", churnEvery), ("--sample-every", sampleEvery)]
        where !(value > 0 && value.isFinite) {
            throw ValidationError("\(name) must be more than 0")
        }
    }

    /// Parses a command line (without the program name). A parse error is a usage error
    /// (exit status 2); `--help` is not an error (status 0). Either way the returned text is
    /// what to print.
    public static func parse(commandLine arguments: [String]) -> Result<FaultOptions, ParseFailure> {
        do {
            return .success(try parse(arguments))
        } catch {
            // Help at least 108 columns wide: the scenario list is a table of lines that long.
            guard exitCode(for: error) != .success else {
                return .failure(ParseFailure(message: helpMessage(columns: max(108, HelpWidth.terminal)), status: 0))
            }
            return .failure(ParseFailure(message: fullMessage(for: error), status: 2))
        }
    }

    /// Why a command line was not run, and the exit status that says so.
    public struct ParseFailure: Error, Equatable {
        public var message: String
        public var status: Int32
    }
}

/// The terminal's width, as ArgumentParser reads it (`COLUMNS`), or 80.
enum HelpWidth {
    static var terminal: Int {
        ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 80
    }
}
