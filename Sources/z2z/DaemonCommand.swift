import ArgumentParser
import Config
import Foundation
import Z2ZAPI

/// The options every command that talks to the daemon shares.
struct DaemonConnection: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Address of the daemon's API (default: $Z2Z_API, else \(GatewayConfiguration.defaults.api.listen)).",
        valueName: "host:port"))
    var api: String?

    @Flag(help: "Print the daemon's JSON answer as it came (API v1: field names are stable).")
    var json = false

    func validate() throws {
        _ = try address()
    }

    func address() throws -> HostPort {
        let text = api ?? ProcessInfo.processInfo.environment["Z2Z_API"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text else { return GatewayConfiguration.defaults.api.listen }
        do { return try HostPort(parsing: text) } catch {
            throw ValidationError("--api \(text): \(error)")
        }
    }

    var client: APIClient { APIClient(address: (try? address()) ?? GatewayConfiguration.defaults.api.listen) }
}

extension DaemonConnection {
    /// Asks the daemon and prints its answer: the JSON as it came with `--json`, else
    /// `render`ed for a person. Returns the answer (for the exit status).
    @discardableResult
    func show<T: Decodable>(_ path: String, query: [URLQueryItem] = [], as type: T.Type,
                            render: (T) -> String) async throws -> T {
        let (answer, raw) = try await reportingDaemonErrors { try await client.get(path, query: query, as: type) }
        if json { printRawJSON(raw) } else { print(render(answer), terminator: "") }
        return answer
    }
}

/// Runs a command body, printing a daemon error to stderr and exiting 1.
func reportingDaemonErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as DaemonError {
        printError("z2z: \(error)")
        throw ExitCode.failure
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// The body as the API sent it, one JSON document a line.
func printRawJSON(_ data: Data) {
    print(String(decoding: data, as: UTF8.self))
}
