/// One measured figure of a scenario: what `Deploy/faults` prints as a `FIGURE` line, what
/// `--json` writes, and, where the scenario has a target, whether it was met.
public struct Figure: Equatable, Sendable {
    public var key: String
    public var value: FigureValue
    public var text: String
    public var target: String?
    /// Whether the target was met; nil for a figure that only reports.
    public var met: Bool?

    public init(_ key: String, _ value: FigureValue, _ text: String, target: String? = nil, met: Bool? = nil) {
        self.key = key
        self.value = value
        self.text = text
        self.target = target
        self.met = met
    }

    /// `FIGURE key: text  (target T)  [met]` — the line RELIABILITY.md quotes.
    public var line: String {
        var line = "FIGURE \(key): \(text)"
        if let target, !target.isEmpty { line += "  (target \(target))" }
        if let met { line += met ? "  [met]" : "  [MISSED]" }
        return line
    }
}

/// A figure's value in the `--json` file.
public enum FigureValue: Equatable, Sendable {
    case number(Double)
    case integer(Int)
    case boolean(Bool)
    case list([FigureValue])
    /// Not measured (a wait that never ended): `null`.
    case none

    /// Seconds, or `null` when there is no measurement.
    public static func seconds(_ value: Double?) -> FigureValue { value.map(FigureValue.number) ?? .none }

    /// The value as JSON, written the way Python's json module wrote it when Deploy/faults
    /// was a Python script (`Infinity` for a trial that never recovered, `2.0` for a whole
    /// float), so older files and new ones read alike.
    func json(indent: Int) -> String {
        switch self {
        case .number(let value):
            if value.isNaN { return "NaN" }
            if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
            return "\(value)"
        case .integer(let value): return "\(value)"
        case .boolean(let value): return value ? "true" : "false"
        case .none: return "null"
        case .list(let values):
            guard !values.isEmpty else { return "[]" }
            let inner = String(repeating: " ", count: indent + 2)
            return "[\n" + values.map { inner + $0.json(indent: indent + 2) }.joined(separator: ",\n")
                + "\n" + String(repeating: " ", count: indent) + "]"
        }
    }
}

/// Every figure of one run, in the order first recorded, and the keys whose target was missed.
public struct Report: Sendable {
    public let scenario: String
    public private(set) var figures: [Figure] = []
    /// Keys of figures that missed their target, in the order recorded.
    public private(set) var missed: [String] = []

    public init(scenario: String) {
        self.scenario = scenario
    }

    /// Records a figure. A key recorded again keeps its place and takes the new value (as a
    /// scenario that measures one figure per trial overwrites it); each miss counts.
    public mutating func record(_ figure: Figure) {
        if let index = figures.firstIndex(where: { $0.key == figure.key }) {
            figures[index] = figure
        } else {
            figures.append(figure)
        }
        if figure.met == false { missed.append(figure.key) }
    }

    /// The `--json` file: `{"scenario": …, "figures": {key: value, …}, "missed": […]}`,
    /// indented by two.
    public var json: String {
        let figures = self.figures.isEmpty ? "{}" : "{\n" + self.figures.map {
            "    \(Self.quote($0.key)): \($0.value.json(indent: 4))"
        }.joined(separator: ",\n") + "\n  }"
        let missed = self.missed.isEmpty ? "[]" : "[\n" + self.missed.map { "    \(Self.quote($0))" }.joined(separator: ",\n") + "\n  ]"
        return "{\n  \"scenario\": \(Self.quote(scenario)),\n  \"figures\": \(figures),\n  \"missed\": \(missed)\n}"
    }

    static func quote(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case _ where scalar.value < 0x20 || scalar.value > 0x7e:
                // As Python's json module writes it (ensure_ascii): \uXXXX, surrogate pairs above the BMP.
                for unit in String(scalar).utf16 { quoted += "\\u" + String(unit, radix: 16).leftPadded(to: 4) }
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}

/// How a run ended, which decides its exit status.
public enum Ending: Equatable, Sendable {
    /// The scenario ran to its end (its figures say whether targets were met).
    case completed
    /// The scenario gave up: something it waited for never happened. Prints `FAILED: …`.
    case failed(String)
    /// It could not start (no testbed); the message goes to stderr, no figures are written.
    case aborted(String)
    /// This machine cannot run the scenario (no nft, no netem).
    case unsupported(String)
    /// Ctrl-C: figures measured so far are still written.
    case interrupted
    /// SIGTERM.
    case terminated

    /// Whether `--json` is written (a run that measured something).
    public var writesFigures: Bool {
        switch self {
        case .completed, .failed, .interrupted: true
        case .aborted, .unsupported, .terminated: false
        }
    }

    /// 0 when every target was met, 1 when one was missed or the scenario failed, 77 when
    /// the machine cannot run it, 130 / 143 after SIGINT / SIGTERM. (2, a usage error, is
    /// decided before a run.)
    public func exitStatus(missed: [String]) -> Int32 {
        switch self {
        case .completed: missed.isEmpty ? 0 : 1
        case .failed, .aborted: 1
        case .unsupported: 77
        case .interrupted: 130
        case .terminated: 143
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
