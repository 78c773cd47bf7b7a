import DNSSD

/// A `HOST:PORT` from the configuration: the API's listening address, a bootstrap seed.
///
/// The host is an IPv4 address, an IPv6 address in brackets (`[::1]:7401`), or a DNS host
/// name resolved when it is used. Kept as text so a name is resolved again on every use.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public enum Host: Hashable, Sendable {
        case address(IPAddress)
        case name(String)
    }

    public var host: Host
    public var port: UInt16

    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; with `defaultPort`, a bare `HOST` (or `[v6]`) takes that port.
    public init(parsing text: String, defaultPort: UInt16? = nil) throws(HostPortError) {
        var hostText: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .malformed(text) }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw .malformed(text) }
                portText = rest.dropFirst()
            }
            guard case .v6 = try? IPAddress(String(hostText)) else { throw .badHost(String(hostText)) }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            // Two colons or more and no brackets: an IPv6 address without a port is ambiguous.
            guard parts.count <= 2 else { throw .malformed(text) }
            hostText = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
        }
        guard let port = try portText.map(Self.port) ?? defaultPort else { throw .missingPort(text) }
        self.init(host: try Self.host(String(hostText)), port: port)
    }

    private static func port(_ text: Substring) throws(HostPortError) -> UInt16 {
        guard let value = Int(text), text.allSatisfy(\.isASCII) else { throw .badPort(String(text)) }
        guard (1...65535).contains(value) else { throw .portOutOfRange(value) }
        return UInt16(value)
    }

    private static func host(_ text: String) throws(HostPortError) -> Host {
        if let address = try? IPAddress(text) { return .address(address) }
        // RFC 1123 host names: letters, digits and hyphens, labels of 1 to 63, 253 in all.
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let valid = !text.isEmpty && text.utf8.count <= 253 && labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        // All-numeric labels would be a mistyped IPv4 address, not a name.
        guard valid, !labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { throw .badHost(text) }
        return .name(text)
    }

    /// The host as a socket API takes it (no brackets).
    public var hostText: String {
        switch host {
        case .address(let address): address.description
        case .name(let name): name
        }
    }

    /// True for 127/8, ::1 and `localhost`: an address only this machine can reach.
    public var isLoopback: Bool {
        switch host {
        case .address(let address): address.isLoopback
        case .name(let name): name.lowercased() == "localhost"
        }
    }

    /// `127.0.0.1:7401`, `[::1]:7401`, `seed.example.org:7400`.
    public var description: String {
        if case .address(.v6) = host { return "[\(hostText)]:\(port)" }
        return "\(hostText):\(port)"
    }
}

/// Why a `HOST:PORT` was refused.
public enum HostPortError: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed(String)
    case missingPort(String)
    case badPort(String)
    case portOutOfRange(Int)
    case badHost(String)

    public var description: String {
        switch self {
        case .malformed(let text): "\"\(text)\" is not HOST:PORT (write an IPv6 address in brackets: [::1]:7401)"
        case .missingPort(let text): "\"\(text)\" has no port (HOST:PORT)"
        case .badPort(let text): "port \"\(text)\" is not a number"
        case .portOutOfRange(let port): "port \(port) is out of range (1 to 65535)"
        case .badHost(let text): "\"\(text)\" is neither an IP address nor a host name"
        }
    }

    var reason: ConfigReason {
        if case .portOutOfRange = self { return .outOfRange }
        return .invalidValue
    }
}
