/// A key's place in the configuration: `dht.port`, `policy.rule[2].action`.
///
/// Array-of-tables elements are counted from 1, as people count rules in a file.
public struct ConfigKeyPath: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component]) { self.components = components }

    /// Dotted bare keys, `dht.port`; only for keys without dots of their own.
    public init(stringLiteral value: String) {
        components = value.split(separator: ".").map { .key(String($0)) }
    }

    public func appending(_ key: String) -> ConfigKeyPath { ConfigKeyPath(components + [.key(key)]) }
    public func appending(index: Int) -> ConfigKeyPath { ConfigKeyPath(components + [.index(index)]) }

    /// Shorter and shorter prefixes, the path itself first.
    var prefixes: [ConfigKeyPath] {
        (0...components.count).reversed().map { ConfigKeyPath(Array(components.prefix($0))) }
    }

    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key):
                let bare = !key.isEmpty && key.utf8.allSatisfy { Self.isBareKeyByte($0) }
                if !text.isEmpty { text += "." }
                text += bare ? key : "\"\(key)\""
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }

    static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }
}
