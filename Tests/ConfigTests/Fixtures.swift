import Config
import Foundation

/// A private temporary directory, removed when the value is dropped at the end of a test.
final class TemporaryDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("z2z-config-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        try! text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// The repository's `Deploy/z2z.toml`.
let shippedConfigurationFile = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Deploy/z2z.toml").path

/// Parses a TOML text alone and returns its problems (empty when valid).
func problems(_ text: String) -> [ConfigProblem] {
    switch ConfigurationLoader.parse(text, path: "z2z.toml") {
    case .success: []
    case .failure(let error): error.problems
    }
}

func parsed(_ text: String) throws -> GatewayConfiguration {
    try ConfigurationLoader.parse(text, path: "z2z.toml").get()
}
