import Foundation

/// Where z2zd's network secret comes from (`SecuritySettings`), read or created once at start.
///
/// A secret is text: the file's or the key's content with surrounding whitespace trimmed, at
/// least 16 bytes. A generated one is 32 random bytes written as 64 hex digits, so it can
/// be copied with any tool (`scp`, a configuration manager, a USB stick).
public enum NetworkSecret {
    public static let minimumBytes = 16
    /// Key files larger than this are refused before reading.
    static let maximumFileBytes = 4096

    /// Where the secret in force came from, for the start-up log line.
    public enum Origin: Equatable, Sendable, CustomStringConvertible {
        case inline
        case file(String)
        /// Created at this start: the network's other gateways need a copy.
        case generated(String)
        /// `security.open`: no secret.
        case open

        public var description: String {
            switch self {
            case .inline: "security.network_key"
            case .file(let path): path
            case .generated(let path): "\(path) (generated now)"
            case .open: "none (open mode)"
            }
        }
    }

    /// Why no secret could be had.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var reason: String
        public var description: String { "network key file \(path): \(reason)" }
    }

    /// The secret's bytes (nil in open mode), where they came from, and warnings to log
    /// (a key file others can read; an inline key in a configuration file others can read,
    /// `configurationFile` being the file the daemon loaded, if any).
    public static func resolve(_ settings: SecuritySettings, stateDirectory: String, configurationFile: String? = nil)
        throws(Failure) -> (secret: [UInt8]?, origin: Origin, warnings: [String])
    {
        if settings.open { return (nil, .open, []) }
        if let inline = settings.networkKey {
            return (Array(trimmed(inline).utf8), .inline, configurationFile.map(inlineKeyWarnings) ?? [])
        }
        if let path = settings.networkKeyFile {
            let secret = try read(path)
            return (secret, .file(path), permissionWarnings(path))
        }
        let path = SecuritySettings.defaultKeyFile(stateDirectory: stateDirectory)
        if FileManager.default.fileExists(atPath: path) { return (try read(path), .file(path), permissionWarnings(path)) }
        return (try generate(at: path), .generated(path), [])
    }

    /// Reads a key file: at most `maximumFileBytes`, UTF-8, `minimumBytes` after trimming.
    public static func read(_ path: String) throws(Failure) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Failure(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "no such file")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumFileBytes + 1)) ?? Data()
        guard data.count <= maximumFileBytes else { throw Failure(path: path, reason: "longer than \(maximumFileBytes) bytes; not a key file") }
        guard let text = String(validating: data, as: UTF8.self) else { throw Failure(path: path, reason: "not UTF-8 text") }
        let secret = Array(trimmed(text).utf8)
        guard secret.count >= minimumBytes else {
            throw Failure(path: path, reason: "holds \(secret.count) bytes; a network key has at least \(minimumBytes)")
        }
        return secret
    }

    /// Creates a key file readable by its owner only, with 32 random bytes as hex; returns the secret.
    public static func generate(at path: String) throws(Failure) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let created = FileManager.default.createFile(
            atPath: path, contents: Data((hex + "\n").utf8), attributes: [.posixPermissions: 0o600])
        guard created else { throw Failure(path: path, reason: "could not be created (does its directory exist and is it writable?)") }
        return Array(hex.utf8)
    }

    static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// A configuration file that writes `network_key = ...` and that other users can read
    /// gives the key away as a world-readable key file would.
    static func inlineKeyWarnings(_ path: String) -> [String] {
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0,
              let text = try? String(contentsOfFile: path, encoding: .utf8),
              text.split(separator: "\n").contains(where: { line in
                  let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" })
                  return words.first == "network_key" && line.contains("=")
              })
        else { return [] }
        return ["security.network_key is written in \(path), which other users can read (mode \(String(mode, radix: 8))): "
                + "chmod 600 it, or move the key to a key file of mode 600 (security.network_key_file)"]
    }

    static func permissionWarnings(_ path: String) -> [String] {
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0
        else { return [] }
        return ["network key file \(path) can be read by other users (mode \(String(mode, radix: 8))); chmod 600 it"]
    }
}
