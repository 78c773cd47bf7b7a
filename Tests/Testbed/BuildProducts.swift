import Foundation

/// Where the package's built executables (`z2z`, `z2zd`) are, for tests that run them
/// inside testbed hosts: `try bed.run(.i(1, h: 1), [BuildProducts.executable("z2z"), "status"])`.
///
/// `swift test` builds every product of the package, tests included, into one directory
/// (`<scratch-path>/<triple>/debug`) and runs the test binary from there, so the products
/// sit next to the running test binary, whatever `--scratch-path` was. Looked up in order:
/// 1. `$Z2Z_BUILD_DIR` (for running a test binary by hand from somewhere else),
/// 2. the directory of the running executable (`/proc/self/exe`),
/// 3. `<repository>/.build/debug`.
public enum BuildProducts {
    /// The directories searched, in order.
    public static var searchPath: [String] {
        var directories: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["Z2Z_BUILD_DIR"], !explicit.isEmpty {
            directories.append(explicit)
        }
        if let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append((running as NSString).deletingLastPathComponent)
        }
        directories.append(Repository.root.appendingPathComponent(".build/debug").path)
        return directories
    }

    /// The absolute path of the built executable `name`.
    public static func executable(_ name: String) throws -> String {
        let searched = searchPath
        for directory in searched {
            let path = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestbedError.executableNotFound(name: name, searched: searched)
    }
}

/// The repository this file was compiled from.
public enum Repository {
    /// `<root>/Tests/Testbed/BuildProducts.swift` → `<root>`.
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Deploy/testbed`, or `$Z2Z_TESTBED_SCRIPT`.
    static var testbedScript: String {
        if let explicit = ProcessInfo.processInfo.environment["Z2Z_TESTBED_SCRIPT"], !explicit.isEmpty {
            return explicit
        }
        return root.appendingPathComponent("Deploy/testbed").path
    }
}
