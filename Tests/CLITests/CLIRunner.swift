import API
import Config
import Foundation
import Logging
import ServiceLifecycle
import Testbed
import Z2ZAPI

/// What one run of the built `z2z` did.
struct CLIResult: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)---" }
}

/// Runs the `z2z` that `swift build` put next to this test binary. Short-lived commands
/// only (Foundation's `Process` is fine for those; see Testbed's `Spawn` for daemons).
func z2z(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try BuildProducts.executable("z2z"))
    process.arguments = arguments
    var inherited = ProcessInfo.processInfo.environment
    inherited["Z2Z_API"] = nil
    process.environment = inherited.merging(environment) { $1 }
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Blocking reads and the wait run on threads of their own: never on Swift's cooperative
    // pool, nor on Dispatch's global queues, which on Linux share its few threads (one per
    // core) and would stall every other test for seconds.
    async let stdout = readAll(output.fileHandleForReading)
    async let stderr = readAll(errors.fileHandleForReading)
    let (out, err) = await (stdout, stderr)
    let status = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            process.waitUntilExit()
            continuation.resume(returning: process.terminationStatus)
        }
    }
    return CLIResult(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
}

private func readAll(_ handle: FileHandle) async -> Data {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: handle.readDataToEndOfFile()) }
    }
}

/// A real API server on 127.0.0.1 (kernel-chosen port) backed by the in-memory gateway,
/// for the duration of `body`.
func withDaemon<T>(_ snapshot: StaticGatewayState.Snapshot = CLIFixture.snapshot,
                   configuration: any RunningConfiguration = FixedConfiguration(CLIFixture.configuration),
                   _ body: (_ api: String, _ source: StaticGatewayState) async throws -> T) async throws -> T {
    let source = StaticGatewayState(snapshot)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let server = APIServer(host: "127.0.0.1", port: 0, source: source, configuration: configuration,
                           logger: Logger(label: "test.api")) { continuation.yield($0) }
    let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test.group")))
    let task = Task { try await group.run() }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw CancellationError() }
    do {
        let result = try await body("127.0.0.1:\(port)", source)
        await group.triggerGracefulShutdown()
        try await task.value
        return result
    } catch {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        throw error
    }
}

/// A port nothing listens on: bound once by the kernel's choice, then closed.
func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
