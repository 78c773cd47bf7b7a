import Dispatch
import Foundation
import Synchronization
import Testbed

#if canImport(Glibc)
import Glibc
#endif

/// One run of `Deploy/faults`: parses the command line, builds the scenario's testbed, runs
/// the scenario, tears everything down (also on failure, Ctrl-C or SIGTERM) and returns the
/// exit status. The testbed is owned by this process, so if it dies anyway, the testbed's
/// watcher tears down after it.
public enum FaultRun {
    public static func main(_ arguments: [String]) async -> Int32 {
        let options: FaultOptions
        switch FaultOptions.parse(commandLine: arguments) {
        case .success(let parsed): options = parsed
        case .failure(let failure):
            if failure.status == 0 { Output.write(failure.message) } else { complain(failure.message) }
            return failure.status
        }
        guard geteuid() == 0 else {
            complain("Deploy/faults needs root (network namespaces)")
            return 1
        }
        let root = Repository.root.path
        guard let binaries = Binaries.find(
            explicit: options.bin, candidates: ["\(root)/.build/release", "\(root)/.build/debug"],
            isExecutable: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            complain("no z2zd: swift build -c release --product z2zd --product z2z")
            return 1
        }
        let output = Output(scenario: options.scenario.rawValue)
        output.say("\(options.scenario.rawValue) with \(binaries.z2zd) on \(ProcessInfo.processInfo.hostName), \(utcNow())")

        let signals = SignalWatch()
        let run = Task { await perform(options, binaries, output) }
        signals.onSignal { run.cancel() }
        let ending = await run.value ?? (signals.received == SIGTERM ? .terminated : .interrupted)
        signals.stop()

        switch ending {
        case .failed(let reason): output.print("FAILED: \(reason)")
        case .aborted(let reason), .unsupported(let reason): complain(reason)
        default: break
        }
        let report = output.snapshot
        if ending.writesFigures, let file = options.json {
            do {
                try report.json.write(toFile: file, atomically: true, encoding: .utf8)
            } catch {
                complain("could not write \(file): \(error)")
            }
        }
        if ending == .completed && !report.missed.isEmpty { output.print("missed: \(report.missed.joined(separator: ", "))") }
        return ending.exitStatus(missed: report.missed)
    }

    /// Builds the testbed, runs the scenario, tears down; how it ended, nil when a signal
    /// cancelled it (the caller knows which).
    private static func perform(_ options: FaultOptions, _ binaries: Binaries, _ output: Output) async -> Ending? {
        do {
            try options.scenario.checkMachine()
        } catch {
            return .unsupported("\(error)")
        }
        let keep = ProcessInfo.processInfo.environment["Z2Z_FAULTS_KEEP"] == "1"
        let (islands, hosts) = options.scenario.testbed
        let bed: Testbed
        do {
            bed = try await Testbed.up(islands: islands, hosts: hosts, owned: !keep)
        } catch is CancellationError {
            return nil
        } catch {
            return .aborted("testbed up failed: \(error)")
        }
        let lab = Lab(bed: bed, binaries: binaries, output: output)
        let ending: Ending?
        do {
            try await options.scenario.run(lab, options)
            ending = .completed
        } catch let failure as ScenarioFailure {
            ending = .failed(failure.description)
        } catch let unsupported as Unsupported {
            ending = .unsupported(unsupported.description)
        } catch is CancellationError {
            ending = nil
        } catch {
            ending = .failed("\(error)")
        }
        if keep {
            output.say("keeping testbed \(bed.name) (Deploy/testbed down \(bed.name))")
        } else {
            do {
                try await bed.down()
            } catch {
                complain("testbed \(bed.name): teardown failed: \(error)")
            }
        }
        return ending
    }

    private static func complain(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    private static func utcNow() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d UTC", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}

/// SIGINT and SIGTERM while a scenario runs: the first one cancels it (so it tears down);
/// which one it was decides the exit status.
final class SignalWatch {
    private final class State: Sendable {
        let first = Mutex<Int32?>(nil)
        let action = Mutex<(@Sendable () -> Void)?>(nil)

        func received(_ signalNumber: Int32) {
            first.withLock { if $0 == nil { $0 = signalNumber } }
            action.withLock { $0 }?()
        }
    }

    private let state = State()
    private let sources: [DispatchSourceSignal]

    init() {
        sources = [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            return DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        }
        for (source, signalNumber) in zip(sources, [SIGINT, SIGTERM]) {
            source.setEventHandler { [state] in state.received(signalNumber) }
            source.resume()
        }
    }

    /// Calls `action` on the first signal (at once, when one came before this call).
    func onSignal(_ action: @escaping @Sendable () -> Void) {
        state.action.withLock { $0 = action }
        if received != nil { action() }
    }

    var received: Int32? { state.first.withLock { $0 } }

    func stop() { sources.forEach { $0.cancel() } }
}
