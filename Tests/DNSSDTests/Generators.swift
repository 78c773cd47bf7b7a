import DNSSD
import PropertyBased

/// Random inputs for the property tests, biased towards the bytes and characters that break
/// escaping code: separators, quotes, backslashes, multi-byte scripts, combining marks, emoji.
///
/// The generators have no shrinker; PropertyBased prints the seed of a failing run, and
/// `.fixedSeed(...)` on the test replays it exactly.
enum Generators {
    /// Characters an instance name may hold, grouped so every run mixes several kinds.
    static let nameScalars: [[Unicode.Scalar]] = [
        Array("abcXYZ0129-_".unicodeScalars),
        Array(" .()\\\"';,:#@!$%&*+/<=>?[]^`{|}~".unicodeScalars),
        Array("ÄÖÜäöüßéèêçñøåÆ".unicodeScalars),                       // 2-byte Latin
        Array("ΑβγδЖжщЯ".unicodeScalars),                               // Greek, Cyrillic
        Array("日本語印刷機中文한국어".unicodeScalars),                      // 3-byte CJK, Hangul
        Array("مرحباשלוםनमस्ते".unicodeScalars),                          // RTL scripts, Devanagari
        ["\u{0301}", "\u{0308}", "\u{200D}", "\u{FE0F}", "\u{00A0}", "\u{2028}"], // combining, ZWJ, odd spaces
        ["🖨", "😀", "👩", "💻", "🇩", "🇪", "🏽", "𝄞", "\u{10FFFD}"],       // 4-byte: emoji, flags, skin tone
    ]

    /// A valid instance name: random Unicode, cut to at most 63 bytes on a character boundary.
    static let instanceName: Generator<InstanceName, Shrink.None<InstanceName>> = Generator { rng in
        let length = Int.random(in: 1...40, using: &rng)
        var scalars = String.UnicodeScalarView()
        for _ in 0..<length {
            let group = nameScalars[Int.random(in: 0..<nameScalars.count, using: &rng)]
            scalars.append(group[Int.random(in: 0..<group.count, using: &rng)])
        }
        let text = truncated(String(scalars), toBytes: Int.random(in: 1...InstanceName.maximumBytes, using: &rng))
        return (try? InstanceName(text.isEmpty ? "x" : text)) ?? InstanceName.fallback
    }

    /// The longest prefix of `text` that ends on a character boundary and fits `limit` bytes.
    static func truncated(_ text: String, toBytes limit: Int) -> String {
        var kept = ""
        for character in text {
            guard kept.utf8.count + character.utf8.count <= limit else { break }
            kept.append(character)
        }
        return kept
    }

    /// Bytes that escaping code treats specially, drawn more often than their share.
    static let awkwardBytes: [UInt8] = [0x00, 0x01, 0x09, 0x0a, 0x20, 0x22, 0x2e, 0x3b, 0x3d, 0x5c,
                                        0x7e, 0x7f, 0x80, 0xc3, 0xff, 0x30, 0x39]

    static func randomBytes(count: Int, using rng: inout any SeededRandomNumberGenerator) -> [UInt8] {
        (0..<count).map { _ in
            Bool.random(using: &rng)
                ? awkwardBytes[Int.random(in: 0..<awkwardBytes.count, using: &rng)]
                : UInt8.random(in: 0...255, using: &rng)
        }
    }

    /// A TXT key: printable ASCII without '=' (RFC 6763 §6.4), mostly short like real keys.
    static func randomKey(using rng: inout any SeededRandomNumberGenerator) -> String {
        let printable = (UInt8(0x20)...0x7e).filter { $0 != UInt8(ascii: "=") }
        let length = Bool.random(using: &rng) ? Int.random(in: 1...9, using: &rng) : Int.random(in: 1...40, using: &rng)
        return String(decoding: (0..<length).map { _ in printable[Int.random(in: 0..<printable.count, using: &rng)] },
                      as: UTF8.self)
    }

    /// A valid TXT record: keys unique ignoring case; boolean, empty and binary values.
    static let txtRecord: Generator<TXTRecord, Shrink.None<TXTRecord>> = Generator { rng in
        var entries: [TXTEntry] = []
        var seen = Set<String>()
        for _ in 0..<Int.random(in: 0...8, using: &rng) {
            let key = randomKey(using: &rng)
            guard seen.insert(key.lowercased()).inserted else { continue }
            let value: [UInt8]?
            switch Int.random(in: 0..<10, using: &rng) {
            case 0, 1: value = nil                                        // boolean attribute
            case 2: value = []                                            // key=
            default: value = randomBytes(count: Int.random(in: 1...(254 - key.utf8.count), using: &rng), using: &rng)
            }
            if let entry = try? TXTEntry(key: key, value: value) { entries.append(entry) }
        }
        return (try? TXTRecord(entries: entries)) ?? .empty
    }

    static let ipAddress: Generator<IPAddress, Shrink.None<IPAddress>> = Generator { rng in
        if Bool.random(using: &rng) { return .v4(UInt32.random(in: 0...UInt32.max, using: &rng)) }
        // Zero runs of random length and position exercise "::" compression in inet_ntop.
        var groups = (0..<8).map { _ in UInt16.random(in: 0...UInt16.max, using: &rng) }
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            let start = Int.random(in: 0..<8, using: &rng)
            for index in start..<Int.random(in: (start + 1)...8, using: &rng) { groups[index] = 0 }
        case 1:  // IPv4-mapped and IPv4-compatible forms have their own text (::ffff:1.2.3.4)
            for index in 0..<5 { groups[index] = 0 }
            groups[5] = Bool.random(using: &rng) ? 0xffff : 0
        case 2:
            for index in 0..<8 where Bool.random(using: &rng) { groups[index] = 0 }
        default:
            break
        }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return .v6(high, low)
    }

    /// A service type that follows RFC 6335 §5.1.
    static let serviceType: Generator<ServiceType, Shrink.None<ServiceType>> = Generator { rng in
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let alphanumerics = letters + Array("0123456789")
        var name = String(letters[Int.random(in: 0..<letters.count, using: &rng)])
        for _ in 0..<Int.random(in: 0...14, using: &rng) {
            let hyphenAllowed = name.last != "-" && name.count < 14
            name.append(hyphenAllowed && Int.random(in: 0..<5, using: &rng) == 0
                ? "-" : alphanumerics[Int.random(in: 0..<alphanumerics.count, using: &rng)])
        }
        if name.hasSuffix("-") { name.removeLast() }
        let transport: TransportProtocol = Bool.random(using: &rng) ? .tcp : .udp
        return (try? ServiceType(name: name, transport: transport)) ?? ServiceType.fallback
    }

    static let hostName: Generator<HostName, Shrink.None<HostName>> = Generator { rng in
        let characters = Array("abcdefghijklmnopqrstuvwxyz0123456789-")
        let label = String((0..<Int.random(in: 1...30, using: &rng)).map { _ in
            characters[Int.random(in: 0..<characters.count, using: &rng)]
        })
        return (try? HostName("\(label).local")) ?? .local
    }

    static let browseLine: Generator<BrowseLine, Shrink.None<BrowseLine>> = Generator { rng in
        let kinds: [BrowseLine.Kind] = [.added, .removed, .resolved]
        let kind = kinds[Int.random(in: 0..<kinds.count, using: &rng)]
        let interfaces = ["eth0", "wlan0", "br-lan", "enp3s0", "veth-tbp1"]
        let id = ServiceID(name: instanceName.run(using: &rng), type: serviceType.run(using: &rng))
        let resolution = kind == .resolved
            ? BrowseLine.Resolution(host: hostName.run(using: &rng), address: ipAddress.run(using: &rng),
                                    port: UInt16.random(in: 0...UInt16.max, using: &rng), txt: txtRecord.run(using: &rng))
            : nil
        return BrowseLine(kind: kind, interface: interfaces[Int.random(in: 0..<interfaces.count, using: &rng)],
                          protocolName: Bool.random(using: &rng) ? "IPv4" : "IPv6", id: id, resolution: resolution)
    }

    /// Names assembled from pieces that look like earlier renames (" #2", " (island)"), often
    /// filled up to exactly 63 bytes: the inputs where a rename could reproduce its original.
    static let renameOriginal: Generator<InstanceName, Shrink.None<InstanceName>> = Generator { rng in
        let pieces = ["Printer", "A", "é", "日", "🖨", " ", " #2", " #3", " #10", " (island)", " (Island)", "(", ")"]
        var text = ""
        for _ in 0..<Int.random(in: 1...20, using: &rng) {
            text += pieces[Int.random(in: 0..<pieces.count, using: &rng)]
        }
        if Bool.random(using: &rng) {
            let tail = pieces[Int.random(in: 6..<11, using: &rng)]
            let fill = String(repeating: "A", count: max(0, InstanceName.maximumBytes - tail.utf8.count))
            text = truncated(text + fill, toBytes: InstanceName.maximumBytes - tail.utf8.count) + tail
        }
        let name = truncated(text, toBytes: InstanceName.maximumBytes)
        return (try? InstanceName(name.isEmpty ? "A" : name)) ?? InstanceName.fallback
    }
}

extension InstanceName {
    /// Only reached if a generator produced something invalid, which the tests would then miss;
    /// it is a plain valid name so such a slip is visible as a lack of variety, not a crash.
    static let fallback: InstanceName = (try? InstanceName("fallback")) ?? fatalFallback()
}

extension ServiceType {
    static let fallback: ServiceType = (try? ServiceType("_fallback._tcp")) ?? fatalFallback()
}

private func fatalFallback<T>() -> T { fatalError("a literal test name failed validation") }
