import Foundation

/// Reads the committed test messages next to this file (no bundle resources needed).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ relativePath: String) -> [UInt8] {
        let url = directory.appendingPathComponent(relativePath)
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        return [UInt8](data)
    }

    static func torture(_ name: String) -> [UInt8] { bytes("rfc4475/\(name).dat") }

    /// `SIP/2.0 ...` lines joined with CRLF and ended by the empty line.
    static func message(_ lines: String..., body: String = "") -> [UInt8] {
        Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }
}
