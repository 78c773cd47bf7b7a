import Foundation

/// Columns aligned for a terminal: a header row, then one row per item, two spaces apart.
/// Widths count characters, so names with accents line up too.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ row: String...) { rows.append(row) }

    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

enum Human {
    /// `3s ago`, `5m ago`, `2h ago`, `4d ago`; `-` for never.
    static func ago(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "-" }
        return duration(max(0, now.timeIntervalSince(date))) + " ago"
    }

    /// `42s`, `5m 3s`, `2h 13m`, `3d 4h`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        switch total {
        case ..<60: return "\(total)s"
        case ..<3600: return "\(total / 60)m \(total % 60)s"
        case ..<86400: return "\(total / 3600)h \(total % 3600 / 60)m"
        default: return "\(total / 86400)d \(total % 86400 / 3600)h"
        }
    }

    /// A node id shortened to the 8 hex digits logs use.
    static func short(_ id: String?) -> String {
        guard let id, !id.isEmpty else { return "-" }
        return String(id.prefix(8))
    }
}
