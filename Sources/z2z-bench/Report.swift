import Foundation

/// Prints a benchmark's figures and optionally writes them as JSON with the run's context.
struct Report<Figures: Encodable>: Encodable {
    var benchmark: String
    var seed: UInt64
    var date: String
    var command: String
    var wallSeconds: Double
    var figures: Figures

    init(_ benchmark: String, seed: UInt64, wallSeconds: Double, figures: Figures) {
        self.benchmark = benchmark
        self.seed = seed
        self.date = ISO8601DateFormatter().string(from: Date())
        self.command = CommandLine.arguments.joined(separator: " ")
        self.wallSeconds = wallSeconds
        self.figures = figures
    }

    func emit(json path: String?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        if let path { try data.write(to: URL(fileURLWithPath: path)) }
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Times a closure on the wall clock.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = Date()
    let value = try body()
    return (value, Date().timeIntervalSince(start))
}

func f(_ x: Double?, _ digits: Int = 1) -> String {
    guard let x else { return "never" }
    return String(format: "%.\(digits)f", x)
}
