import DNSSD
import Policy

/// A value refused by a validator; the caller adds the key and where the value came from.
struct Invalid: Error {
    var reason: ConfigReason
    var message: String

    init(_ reason: ConfigReason, _ message: String) {
        self.reason = reason
        self.message = message
    }
}

/// One validator per setting, shared by the TOML file, the environment and the flags so a
/// value means the same wherever it is written.
enum Validate {
    static func network(_ text: String) throws(Invalid) -> String {
        guard !text.isEmpty, text.utf8.count <= 63,
              text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
        else { throw Invalid(.invalidValue, "\"\(text)\" is not a network name: 1 to 63 letters, digits, '-', '_' or '.'") }
        return text
    }

    static func stateDirectory(_ text: String) throws(Invalid) -> String {
        guard text.hasPrefix("/") else { throw Invalid(.invalidValue, "\"\(text)\" is not an absolute path") }
        guard !text.utf8.contains(0) else { throw Invalid(.invalidValue, "the path contains a NUL byte") }
        return text
    }

    static func keyFile(_ text: String) throws(Invalid) -> String {
        guard !text.isEmpty else { throw Invalid(.invalidValue, "an empty path names no key file") }
        guard !text.utf8.contains(0) else { throw Invalid(.invalidValue, "the path contains a NUL byte") }
        return text
    }

    /// An inline network key: at least 16 bytes once surrounding whitespace is trimmed.
    static func networkKey(_ text: String) throws(Invalid) -> String {
        let trimmed = NetworkSecret.trimmed(text)
        guard trimmed.utf8.count >= NetworkSecret.minimumBytes else {
            throw Invalid(.invalidValue, "a network key has at least \(NetworkSecret.minimumBytes) bytes, this one \(trimmed.utf8.count)")
        }
        return trimmed
    }

    static func logLevel(_ text: String) throws(Invalid) -> LogLevel {
        try oneOf(text, LogLevel.self)
    }

    static func listen(_ text: String) throws(Invalid) -> HostPort {
        do { return try HostPort(parsing: text) } catch { throw Invalid(error.reason, error.description) }
    }

    static func bootstrap(_ text: String) throws(Invalid) -> HostPort {
        do {
            return try HostPort(parsing: text, defaultPort: GatewayConfiguration.defaultDHTPort)
        } catch {
            throw Invalid(error.reason, error.description)
        }
    }

    static func islandName(_ text: String) throws(Invalid) -> String {
        guard !text.isEmpty, text.utf8.count <= 63 else {
            throw Invalid(.invalidValue, "an island name has 1 to 63 bytes, \"\(text)\" has \(text.utf8.count)")
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw Invalid(.invalidValue, "an island name cannot contain control characters")
        }
        // Policy rules read sixteen hex digits as an island id.
        guard !(text.utf8.count == 16 && text.allSatisfy(\.isHexDigit)) else {
            throw Invalid(.invalidValue, "\"\(text)\" looks like an island id (16 hex digits); choose a name people can read")
        }
        guard text != "*" else { throw Invalid(.invalidValue, "\"*\" means every island in policy rules; choose another name") }
        return text
    }

    /// A Linux interface name: 1 to 15 bytes (IFNAMSIZ - 1), no '/', ':' is allowed only
    /// as an alias would use it (refused: aliases share their interface's link), no space.
    static func interfaceName(_ text: String) throws(Invalid) -> String {
        guard !text.isEmpty else { throw Invalid(.invalidValue, "an empty interface name names no link") }
        guard text.utf8.count <= 15 else {
            throw Invalid(.invalidValue, "\"\(text)\" is not an interface name: at most 15 bytes, it has \(text.utf8.count)")
        }
        guard text != ".", text != "..",
              text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f && $0 != "/" && $0 != ":" && $0 != "=" })
        else {
            throw Invalid(.invalidValue, "\"\(text)\" is not an interface name: printable ASCII without spaces, '/', ':' or '='")
        }
        return text
    }

    static func link(_ text: String) throws(Invalid) -> LinkSettings {
        try LinkSettings.parsing(text)
    }

    static func priority(_ value: Int) throws(Invalid) -> UInt8 {
        guard let priority = UInt8(exactly: value) else { throw Invalid(.outOfRange, "\(value) is out of range (0 to 255)") }
        return priority
    }

    /// Heartbeats from 100 ms (more only loads the link) to 10 s (failover would take half a minute).
    static func heartbeat(_ seconds: Double) throws(Invalid) -> Duration {
        guard seconds.isFinite, (0.1...10).contains(seconds) else {
            throw Invalid(.outOfRange, "\(seconds) s is out of range (0.1 to 10 seconds)")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    static func engine(_ text: String) throws(Invalid) -> DHTEngine {
        try oneOf(text, DHTEngine.self)
    }

    static func relayMode(_ text: String) throws(Invalid) -> RelayMode {
        try oneOf(text, RelayMode.self)
    }

    static func sipMode(_ text: String) throws(Invalid) -> SIPMode {
        try oneOf(text, SIPMode.self)
    }

    /// A registration lifetime bound, seconds.
    static func expires(_ value: Int) throws(Invalid) -> Int {
        guard (1...86_400).contains(value) else { throw Invalid(.outOfRange, "\(value) is out of range (1 to 86400 seconds)") }
        return value
    }

    /// A realm or password: printable, no quote or backslash (they go into a quoted string).
    static func realm(_ text: String) throws(Invalid) -> String {
        guard !text.isEmpty, text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0 != "\"" && $0 != "\\" }) else {
            throw Invalid(.invalidValue, "must be non-empty, without control characters, quotes or backslashes")
        }
        return text
    }

    static func port(_ value: Int) throws(Invalid) -> UInt16 {
        guard (1...65535).contains(value) else { throw Invalid(.outOfRange, "\(value) is out of range (1 to 65535)") }
        return UInt16(value)
    }

    static func subnetLimit(_ value: Int) throws(Invalid) -> Int {
        guard (0...64).contains(value) else { throw Invalid(.outOfRange, "\(value) is out of range (0 to 64; 0 turns the limit off)") }
        return value
    }

    static func structureThreshold(_ value: Int) throws(Invalid) -> Int {
        guard (2...4096).contains(value) else { throw Invalid(.outOfRange, "\(value) is out of range (2 to 4096 islands)") }
        return value
    }

    static func action(_ text: String) throws(Invalid) -> PolicyAction {
        try oneOf(text, PolicyAction.self)
    }

    static func direction(_ text: String) throws(Invalid) -> DirectionMatch {
        try oneOf(text, DirectionMatch.self)
    }

    static func typeMatch(_ text: String) throws(Invalid) -> TypeMatch {
        do { return try TypeMatch(parsing: text) } catch {
            throw Invalid(.invalidValue, "\"\(text)\" is not a service type such as _ipp._tcp, or \"*\": \(error)")
        }
    }

    static func serviceType(_ text: String) throws(Invalid) -> ServiceType {
        do { return try ServiceType(text) } catch {
            throw Invalid(.invalidValue, "\"\(text)\" is not a service type such as _ipp._tcp: \(error)")
        }
    }

    static func islandMatch(_ text: String) throws(Invalid) -> IslandMatch {
        do { return try IslandMatch(parsing: text) } catch { throw Invalid(.invalidValue, error.description) }
    }

    /// An instance or host name pattern (`Lab*`, `lab-?.local`).
    static func nameGlob(_ text: String) throws(Invalid) -> NameGlob {
        do { return try NameGlob(text) } catch { throw Invalid(.invalidValue, error.description) }
    }

    /// An IPv4 or IPv6 prefix (`10.1.2.0/24`, `fd00:1::/64`) or one address.
    static func addressPrefix(_ text: String) throws(Invalid) -> IPPrefix {
        do { return try IPPrefix(policy: text) } catch { throw Invalid(.invalidValue, error.description) }
    }

    static func tagName(_ text: String) throws(Invalid) -> String {
        guard !text.isEmpty, text.utf8.allSatisfy(ConfigKeyPath.isBareKeyByte) else {
            throw Invalid(.invalidValue, "\"\(text)\" is not a tag name: letters, digits, '-' and '_'")
        }
        return text
    }

    /// An integer written as text (environment variables and flags).
    static func integer(_ text: String) throws(Invalid) -> Int {
        guard let value = Int(text.trimmingSpaces) else { throw Invalid(.wrongType, "\"\(text)\" is not an integer") }
        return value
    }

    private static func oneOf<T: RawRepresentable & CaseIterable>(_ text: String, _: T.Type) throws(Invalid) -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            let choices = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw Invalid(.invalidValue, "\"\(text)\" is not one of \(choices)")
        }
        return value
    }
}

extension String {
    var trimmingSpaces: Substring {
        let start = firstIndex { $0 != " " } ?? endIndex
        let end = lastIndex { $0 != " " }.map(index(after:)) ?? start
        return self[start..<max(start, end)]
    }
}

/// The closest of `candidates` to a mistyped key, if it is close enough to be the one meant.
func suggestion(for key: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(key.lowercased(), $0)) }.min { $0.1 < $1.1 }
    guard let (best, distance) = scored, distance <= max(1, min(3, best.count / 3)) else { return nil }
    return best
}

/// Levenshtein distance over characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
