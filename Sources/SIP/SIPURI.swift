/// A `sip:` or `sips:` URI (RFC 3261 §19.1): user, password, host, port, parameters, headers.
///
/// Escapes are decoded on parse and re-applied on print, so two spellings of one URI
/// (`sip:%75ser@Example.COM` and `sip:user@example.com`) parse to equal values. Scheme, host and
/// parameter names compare ignoring ASCII case; user and password are case-sensitive bytes.
/// Deviation from §19.1.4: equality is structural (parameter order matters, and a parameter
/// present on one side only makes two URIs differ); the redirect service compares
/// `SIPAddressOfRecord`s, which carry none of those.
public struct SIPURI: Hashable, Sendable, CustomStringConvertible {
    public var isSecure: Bool
    /// The user part, percent-decoded; nil when the URI has no userinfo.
    public var userBytes: [UInt8]?
    /// The password, percent-decoded; nil when absent.
    public var passwordBytes: [UInt8]?
    public var host: SIPHost
    public var port: UInt16?
    public var parameters: [SIPURIParameter]
    public var headers: [SIPURIHeader]

    public init(
        isSecure: Bool = false, user: String? = nil, password: String? = nil, host: SIPHost, port: UInt16? = nil,
        parameters: [SIPURIParameter] = [], headers: [SIPURIHeader] = []
    ) {
        self.isSecure = isSecure
        self.userBytes = user.map { Array($0.utf8) }
        self.passwordBytes = password.map { Array($0.utf8) }
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
    }

    /// The user part as text (escaped bytes that are not UTF-8 show as U+FFFD).
    public var user: String? { userBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var password: String? { passwordBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var scheme: String { isSecure ? "sips" : "sip" }

    /// The value of the first parameter with this name (names compare ignoring case);
    /// `.some(nil)` for a parameter without value.
    public func parameter(_ name: String) -> String?? {
        let wanted = SIPBytes.lowercased(name)
        return parameters.first { $0.name == wanted }.map(\.value)
    }

    public init(parsing text: String, limits: SIPLimits = .default) throws(SIPRejection) {
        let bytes = Array(text.utf8)
        guard bytes.count <= limits.maximumURIBytes else { throw .uriTooLong(bytes: bytes.count) }
        guard case .sip(let uri) = try SIPAnyURI.parse(bytes[...], limits: limits) else {
            throw .uriSchemeUnsupported(SIPAnyURI.scheme(of: bytes[...]) ?? "")
        }
        self = uri
    }

    public var description: String {
        var text = scheme + ":"
        if let userBytes {
            text += SIPBytes.percentEncoded(userBytes, allowed: SIPBytes.user)
            if let passwordBytes { text += ":" + SIPBytes.percentEncoded(passwordBytes, allowed: SIPBytes.password) }
            text += "@"
        }
        text += host.description
        if let port { text += ":\(port)" }
        for parameter in parameters { text += ";" + parameter.description }
        for (index, header) in headers.enumerated() { text += (index == 0 ? "?" : "&") + header.description }
        return text
    }

    /// Parses what follows `sip:` or `sips:`.
    static func parse(afterScheme bytes: ArraySlice<UInt8>, isSecure: Bool, limits: SIPLimits) throws(SIPRejection) -> SIPURI {
        var rest = bytes
        var userBytes: [UInt8]?
        var passwordBytes: [UInt8]?
        if let at = rest.firstIndex(of: UInt8(ascii: "@")) {
            let userinfo = rest[..<at]
            rest = rest[(at + 1)...]
            let colon = userinfo.firstIndex(of: UInt8(ascii: ":"))
            let userPart = userinfo[..<(colon ?? userinfo.endIndex)]
            guard !userPart.isEmpty, SIPBytes.isEscaped(userPart, allowed: SIPBytes.user),
                  let user = SIPBytes.percentDecoded(userPart) else { throw .uriUserInvalid }
            userBytes = user
            if let colon {
                let passwordPart = userinfo[(colon + 1)...]
                guard SIPBytes.isEscaped(passwordPart, allowed: SIPBytes.password),
                      let password = SIPBytes.percentDecoded(passwordPart) else { throw .uriPasswordInvalid }
                passwordBytes = password
            }
        }
        // hostport
        var hostEnd = rest.startIndex
        if rest.first == UInt8(ascii: "[") {
            guard let close = rest.firstIndex(of: UInt8(ascii: "]")) else { throw .uriHostInvalid }
            hostEnd = close + 1
        } else {
            while hostEnd < rest.endIndex, ![UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "?")].contains(rest[hostEnd]) {
                hostEnd += 1
            }
        }
        let host = try SIPHost.parse(rest[rest.startIndex..<hostEnd])
        rest = rest[hostEnd...]
        var port: UInt16?
        if rest.first == UInt8(ascii: ":") {
            var portEnd = rest.startIndex + 1
            while portEnd < rest.endIndex, SIPBytes.isDigit(rest[portEnd]) { portEnd += 1 }
            guard let value = SIPBytes.decimal(rest[(rest.startIndex + 1)..<portEnd], maximum: 65_535) else {
                throw .uriPortInvalid
            }
            port = UInt16(value)
            rest = rest[portEnd...]
        }
        let questionMark = rest.firstIndex(of: UInt8(ascii: "?")) ?? rest.endIndex
        let parameters = try SIPURIParameter.parseList(rest[rest.startIndex..<questionMark], limits: limits)
        var headers: [SIPURIHeader] = []
        if questionMark < rest.endIndex {
            headers = try SIPURIHeader.parseList(rest[(questionMark + 1)...], limits: limits)
        }
        var uri = SIPURI(isSecure: isSecure, host: host, port: port, parameters: parameters, headers: headers)
        uri.userBytes = userBytes
        uri.passwordBytes = passwordBytes
        return uri
    }
}

/// One `;name[=value]` URI parameter, decoded; the name is lower-cased (RFC 3261 §19.1.4).
public struct SIPURIParameter: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = SIPBytes.lowercased(name)
        self.value = value
    }

    public var description: String {
        let name = SIPBytes.percentEncoded(Array(name.utf8), allowed: SIPBytes.paramchar)
        guard let value else { return name }
        return name + "=" + SIPBytes.percentEncoded(Array(value.utf8), allowed: SIPBytes.paramchar)
    }

    /// Parses `;a=b;c` (the leading semicolon included); empty input gives no parameters.
    static func parseList(_ bytes: ArraySlice<UInt8>, limits: SIPLimits) throws(SIPRejection) -> [SIPURIParameter] {
        guard !bytes.isEmpty else { return [] }
        guard bytes.first == UInt8(ascii: ";") else { throw .uriHostInvalid }
        let pieces = bytes.dropFirst().split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
        guard pieces.count <= limits.maximumParameters else { throw .tooManyParameters(count: pieces.count) }
        var parameters: [SIPURIParameter] = []
        for piece in pieces {
            let equals = piece.firstIndex(of: UInt8(ascii: "="))
            let namePart = piece[..<(equals ?? piece.endIndex)]
            guard !namePart.isEmpty, SIPBytes.isEscaped(namePart, allowed: SIPBytes.paramchar),
                  let name = SIPBytes.percentDecoded(namePart).flatMap({ String(validating: $0, as: UTF8.self) })
            else { throw .uriParameterInvalid }
            var value: String?
            if let equals {
                let valuePart = piece[(equals + 1)...]
                guard !valuePart.isEmpty, SIPBytes.isEscaped(valuePart, allowed: SIPBytes.paramchar),
                      let decoded = SIPBytes.percentDecoded(valuePart).flatMap({ String(validating: $0, as: UTF8.self) })
                else { throw .uriParameterInvalid }
                value = decoded
            }
            parameters.append(SIPURIParameter(name: name, value: value))
        }
        return parameters
    }
}

/// One `name=value` URI header (RFC 3261 §19.1.1), decoded.
public struct SIPURIHeader: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public var description: String {
        SIPBytes.percentEncoded(Array(name.utf8), allowed: SIPBytes.hnv) + "="
            + SIPBytes.percentEncoded(Array(value.utf8), allowed: SIPBytes.hnv)
    }

    static func parseList(_ bytes: ArraySlice<UInt8>, limits: SIPLimits) throws(SIPRejection) -> [SIPURIHeader] {
        let pieces = bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false)
        guard pieces.count <= limits.maximumParameters else { throw .tooManyParameters(count: pieces.count) }
        var headers: [SIPURIHeader] = []
        for piece in pieces {
            guard let equals = piece.firstIndex(of: UInt8(ascii: "=")) else { throw .uriHeaderInvalid }
            let namePart = piece[..<equals]
            let valuePart = piece[(equals + 1)...]
            guard !namePart.isEmpty, SIPBytes.isEscaped(namePart, allowed: SIPBytes.hnv),
                  SIPBytes.isEscaped(valuePart, allowed: SIPBytes.hnv),
                  let name = SIPBytes.percentDecoded(namePart).flatMap({ String(validating: $0, as: UTF8.self) }),
                  let value = SIPBytes.percentDecoded(valuePart).flatMap({ String(validating: $0, as: UTF8.self) })
            else { throw .uriHeaderInvalid }
            headers.append(SIPURIHeader(name: name, value: value))
        }
        return headers
    }
}
