/// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests:
/// every line is a `# HELP`, a `# TYPE` or a sample; a sample's family must have had its
/// `# TYPE` first; names and label names follow the metric-name grammar; label values are
/// quoted with `\\`, `\"` and `\n` escapes only; values are Go floats (`+Inf`, `NaN`
/// included); no series appears twice. Any other line is an error naming the line.
public struct PrometheusText: Sendable {
    public struct Sample: Hashable, Sendable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public private(set) var types: [String: String] = [:]
    public private(set) var samples: [Sample] = []

    public init(_ text: String) throws {
        var seen = Set<String>()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[0] == "#" else { throw ParseError(line: number, reason: "bad comment") }
                guard Self.isName(parts[2]) else { throw ParseError(line: number, reason: "bad metric name \(parts[2])") }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw ParseError(line: number, reason: "bad TYPE")
                    }
                    guard types[String(parts[2])] == nil else { throw ParseError(line: number, reason: "second TYPE for \(parts[2])") }
                    types[String(parts[2])] = String(parts[3])
                }
                continue
            }
            var rest = Substring(line)
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
            guard Self.isName(name) else { throw ParseError(line: number, reason: "bad sample name") }
            rest = rest.dropFirst(name.count)
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    let label = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                    guard Self.isName(label), !label.contains(":") else { throw ParseError(line: number, reason: "bad label name") }
                    rest = rest.dropFirst(label.count)
                    guard rest.hasPrefix("=\"") else { throw ParseError(line: number, reason: "expected =\" after \(label)") }
                    rest = rest.dropFirst(2)
                    var value = ""
                    while true {
                        guard let character = rest.first else { throw ParseError(line: number, reason: "unterminated label value") }
                        rest = rest.dropFirst()
                        if character == "\"" { break }
                        if character == "\\" {
                            guard let escaped = rest.first else { throw ParseError(line: number, reason: "dangling escape") }
                            rest = rest.dropFirst()
                            switch escaped {
                            case "\\": value.append("\\")
                            case "\"": value.append("\"")
                            case "n": value.append("\n")
                            default: throw ParseError(line: number, reason: "bad escape \\\(escaped)")
                            }
                        } else {
                            value.append(character)
                        }
                    }
                    guard labels[String(label)] == nil else { throw ParseError(line: number, reason: "label \(label) twice") }
                    labels[String(label)] = value
                    if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" {
                        throw ParseError(line: number, reason: "expected , or }")
                    }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " " else { throw ParseError(line: number, reason: "expected a space before the value") }
            let fields = rest.dropFirst().split(separator: " ")
            guard (1...2).contains(fields.count), let value = Self.value(fields[0]) else {
                throw ParseError(line: number, reason: "bad value \(rest)")
            }
            if fields.count == 2, Int64(fields[1]) == nil { throw ParseError(line: number, reason: "bad timestamp") }
            let family = Self.family(String(name), types: types)
            guard types[family] != nil else { throw ParseError(line: number, reason: "sample \(name) before its TYPE") }
            let key = "\(name)\(labels.sorted { $0.key < $1.key })"
            guard seen.insert(key).inserted else { throw ParseError(line: number, reason: "series \(key) twice") }
            samples.append(Sample(name: String(name), labels: labels, value: value))
        }
    }

    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    static func isName(_ text: Substring) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" || first == ":" else { return false }
        return text.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == ":" }
    }

    static func value(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    /// The family a sample belongs to: histogram and summary samples carry suffixes.
    static func family(_ name: String, types: [String: String]) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if ["histogram", "summary"].contains(types[base]) { return base }
        }
        return name
    }
}
