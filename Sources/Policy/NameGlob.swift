/// A shell-style pattern for instance and host names in policy rules: `*` stands for any run
/// of characters (none included), `?` for exactly one, and `\` takes the next `*`, `?` or `\`
/// literally. Everything else, brackets included, is itself. Letters compare without regard
/// to case, as people read names ("lab printer" is "Lab Printer").
///
/// A glob matches the name as people see it, unescaped: `Lab Printer (3)`, not
/// `Lab\032Printer\0403\041` as `avahi-browse -p` prints it.
public struct NameGlob: Hashable, Sendable, CustomStringConvertible {
    /// The pattern as written, escapes included (shown back in rule descriptions).
    public let text: String
    private let pieces: [Piece]

    private enum Piece: Hashable, Sendable {
        case literal(Character)
        case one
        case any
    }

    public init(_ text: String) throws(PolicyError) {
        guard !text.isEmpty else { throw .globInvalid(text, "it is empty; use \"*\" for any name, or leave the key out") }
        if let control = text.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw .globInvalid(text, "it contains the control character U+\(String(control.value, radix: 16, uppercase: true))")
        }
        var pieces: [Piece] = []
        var characters = text.lowercased().makeIterator()
        while let character = characters.next() {
            switch character {
            case "*": if pieces.last != .any { pieces.append(.any) }
            case "?": pieces.append(.one)
            case "\\":
                guard let escaped = characters.next() else {
                    throw .globInvalid(text, "it ends in a lone \"\\\"; write \"\\\\\" for a backslash")
                }
                guard "*?\\".contains(escaped) else {
                    throw .globInvalid(text, "\"\\\(escaped)\" escapes nothing: only \"\\*\", \"\\?\" and \"\\\\\" are escapes")
                }
                pieces.append(.literal(escaped))
            default: pieces.append(.literal(character))
            }
        }
        self.text = text
        self.pieces = pieces
    }

    /// Whether the pattern is only stars: it matches every name.
    public var matchesEverything: Bool { pieces.allSatisfy { $0 == .any } }

    public func matches(_ name: String) -> Bool {
        // The usual two-pointer match: on a mismatch, let the last star take one more character.
        let name = Array(name.lowercased())
        var p = 0, n = 0
        var star: (piece: Int, name: Int)?
        while n < name.count {
            if p < pieces.count {
                switch pieces[p] {
                case .any:
                    star = (p, n)
                    p += 1
                    continue
                case .one:
                    p += 1; n += 1
                    continue
                case .literal(let character) where character == name[n]:
                    p += 1; n += 1
                    continue
                case .literal:
                    break
                }
            }
            guard let last = star else { return false }
            star = (last.piece, last.name + 1)
            p = last.piece + 1
            n = last.name + 1
        }
        return pieces[p...].allSatisfy { $0 == .any }
    }

    public var description: String { text }
}
