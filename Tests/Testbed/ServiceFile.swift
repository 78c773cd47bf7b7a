import Foundation

/// A static service for a testbed host's avahi-daemon (avahi.service(5)): a file in the
/// host's `services/` directory, which its daemon reads as /etc/avahi/services. Many services
/// at once, published by avahi-daemon itself, without one `avahi-publish` process each.
public struct ServiceFile: Hashable, Sendable {
    public var name: String
    public var type: String
    public var port: Int
    public var txt: [String]

    public init(name: String, type: String, port: Int, txt: [String] = []) {
        self.name = name
        self.type = type
        self.port = port
        self.txt = txt
    }

    /// The file's text. Names and TXT strings are XML-escaped: avahi-daemon rejects a file
    /// that does not parse, and says so only in its log.
    public var xml: String {
        let records = txt.map { "<txt-record>\(Self.escape($0))</txt-record>" }.joined()
        return """
            <?xml version="1.0" standalone='no'?>
            <!DOCTYPE service-group SYSTEM "avahi-service.dtd">
            <service-group><name>\(Self.escape(name))</name>
            <service><type>\(type)</type><port>\(port)</port>\(records)</service></service-group>

            """
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

extension Testbed {
    /// Writes `services` into the host's services directory (`<name>.service` each, a `/`
    /// in the name written as `_`) and restarts its avahi-daemon, which publishes them once
    /// it runs again.
    public func install(_ services: [ServiceFile], on host: HostRef) async throws {
        for service in services {
            let file = service.name.replacingOccurrences(of: "/", with: "_")
            try service.xml.write(toFile: "\(directory)/\(host)/services/\(file).service", atomically: true, encoding: .utf8)
        }
        try await restartAvahi(host)
    }

    /// `<testbed>/network.key`, the network key every z2zd of the testbed shares (created on
    /// first use: mode 600, 32 random bytes as hex). Without it each would create its own
    /// in its state directory and none would admit another.
    public func networkKeyFile() throws -> String {
        let path = "\(directory)/network.key"
        if !FileManager.default.fileExists(atPath: path) {
            var generator = SystemRandomNumberGenerator()
            let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: Data((hex + "\n").utf8),
                                                 attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteUnknown) }
        }
        return path
    }
}
