import PropertyBased
import SIP
import Testing

/// Generated URIs and messages survive print-then-parse; arbitrary bytes never crash.
/// No shrinking: PropertyBased prints the seed of a failing run; `.fixedSeed(...)` replays it.
@Suite struct PropertyTests {
    static func pick<T>(_ values: [T], _ rng: inout any SeededRandomNumberGenerator) -> T {
        values[Int.random(in: 0..<values.count, using: &rng)]
    }

    static func word(_ alphabet: [Character], _ range: ClosedRange<Int>, _ rng: inout any SeededRandomNumberGenerator) -> String {
        String((0..<Int.random(in: range, using: &rng)).map { _ in pick(alphabet, &rng) })
    }

    static let tokenCharacters = Array("abcXYZ019-.!%*_+`'~")
    static let hostLabels = ["example", "org", "a", "x-1", "pc33", "atlanta", "b2"]

    static func host(_ rng: inout any SeededRandomNumberGenerator) -> SIPHost {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            let labels = (0..<Int.random(in: 0...3, using: &rng)).map { _ in pick(hostLabels, &rng) } + [pick(["com", "org", "local", "Net"], &rng)]
            return (try? SIPHost(parsing: labels.joined(separator: "."))) ?? .ipv4(1)
        case 1: return .ipv4(UInt32.random(in: 0...UInt32.max, using: &rng))
        default:
            var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
            for index in 0..<16 where Bool.random(using: &rng) { bytes[index] = 0 }  // runs of zeros for "::"
            return .ipv6(bytes)
        }
    }

    /// Any bytes in user and password (they are escaped on print), arbitrary parameters and headers.
    static let sipURI: Generator<SIPURI, Shrink.None<SIPURI>> = Generator { rng in
        var uri = SIPURI(isSecure: Bool.random(using: &rng), host: host(&rng))
        if Int.random(in: 0..<4, using: &rng) > 0 {
            uri.userBytes = (0..<Int.random(in: 1...12, using: &rng)).map { _ in
                Bool.random(using: &rng) ? UInt8.random(in: 0...255, using: &rng) : pick(Array("abc;?/&=+$,%@: ".utf8), &rng)
            }
            if Bool.random(using: &rng) { uri.passwordBytes = Array(word(Array("pw&=+$,:%@ "), 0...8, &rng).utf8) }
        }
        if Bool.random(using: &rng) { uri.port = UInt16.random(in: 0...65535, using: &rng) }
        for _ in 0..<Int.random(in: 0...3, using: &rng) {
            let name = word(Array("abcTLR-[]/:&+$%; ="), 1...6, &rng)
            uri.parameters.append(SIPURIParameter(name: name, value: Bool.random(using: &rng) ? word(Array("abc19[]/:&+$ %;=?"), 1...6, &rng) : nil))
        }
        for _ in 0..<Int.random(in: 0...2, using: &rng) {
            uri.headers.append(SIPURIHeader(name: word(Array("abcXY?:[]&= %"), 1...5, &rng), value: word(Array("abc?:/&=<> %"), 0...8, &rng)))
        }
        return uri
    }

    @Test func printedSIPURIsParseBackToTheSameURI() async {
        await propertyCheck(count: 2000, input: Self.sipURI) { uri throws in
            let parsed = try SIPURI(parsing: uri.description)
            #expect(parsed == uri, "\(uri.description)")
            #expect(SIPAddressOfRecord(parsed) == SIPAddressOfRecord(uri))
            #expect(try SIPAddressOfRecord(parsing: SIPAddressOfRecord(uri).description) == SIPAddressOfRecord(uri))
        }
    }

    struct Request: Sendable {
        var method: String
        var user: String
        var branch: String
        var displayName: String
        var cseq: UInt32
        var fold: [Bool]
        var compact: Bool
    }

    static let request: Generator<Request, Shrink.None<Request>> = Generator { rng in
        Request(
            method: pick(["INVITE", "OPTIONS", "MESSAGE", "X-Custom.1"], &rng),
            user: word(Array("abcdeXYZ019-_.!~*'()&=+$,;?/"), 1...10, &rng),
            branch: "z9hG4bK" + word(tokenCharacters, 1...12, &rng),
            displayName: word(Array("ab \"\\,;<>:@Ωß日"), 0...10, &rng),
            cseq: UInt32.random(in: 0...SIPCSeq.maximumNumber, using: &rng),
            fold: (0..<8).map { _ in Bool.random(using: &rng) },
            compact: Bool.random(using: &rng))
    }

    /// A request written with random folding and compact names parses to the fields it was made of.
    @Test func generatedRequestsParseToTheirFields() async {
        await propertyCheck(count: 1000, input: Self.request) { spec throws in
            let folding = spec.fold.map { $0 ? "\r\n \t" : " " }
            let quoted = "\"" + spec.displayName.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
            let uri = "sip:" + spec.user + "@example.org"
            let lines = [
                "\(spec.method) \(uri) SIP/2.0",
                "\(spec.compact ? "v" : "Via"):\(folding[0])SIP/2.0/UDP\(folding[1])192.0.2.1:5060;branch=\(spec.branch)",
                "\(spec.compact ? "t" : "To"): \(quoted)\(folding[2])<\(uri)>",
                "\(spec.compact ? "f" : "From"): <sip:caller@example.net>;\(folding[3])tag=x",
                "\(spec.compact ? "i" : "Call-ID"): id@host",
                "CSeq: \(spec.cseq)\(folding[4])\(spec.method)",
                "Max-Forwards:\(folding[5])70",
                "\(spec.compact ? "l" : "Content-Length"): 0",
            ]
            let request = try SIPRequest(SIPMessage.parse(Fixtures.message(lines.joined(separator: "\r\n")), transport: .stream))
            #expect(request.method.rawValue == spec.method)
            #expect(request.cseq.number == spec.cseq)
            #expect(request.via.first?.branch == spec.branch)
            #expect(request.to.displayName == spec.displayName)
            #expect(try SIPAddressOfRecord(parsing: request.requestURI.description) == SIPAddressOfRecord(parsing: uri))
            #expect(request.from.tag == "x")
        }
    }

    struct Mutation: Sendable {
        var file: String
        var edits: [Edit]
        struct Edit: Sendable {
            var offset: Int
            var byte: UInt8
        }
    }

    static let awkward: [UInt8] = [0x00, 0x0a, 0x0d, 0x20, 0x22, 0x3a, 0x3b, 0x3c, 0x25, 0xff, 0x2c]

    static let mutation: Generator<Mutation, Shrink.None<Mutation>> = Generator { rng in
        let file = pick(TortureTests.cases.map(\.file), &rng)
        var edits: [Mutation.Edit] = []
        for _ in 0..<Int.random(in: 1...8, using: &rng) {
            edits.append(Mutation.Edit(offset: Int.random(in: 0..<4096, using: &rng), byte: pick(awkward, &rng)))
        }
        return Mutation(file: file, edits: edits)
    }

    /// Mutated torture messages: every outcome is a value or a typed rejection, and every response
    /// the redirect service makes frames again.
    @Test func mutatedMessagesNeverCrashAndAnswersAlwaysFrame() async {
        await propertyCheck(count: 3000, input: Self.mutation) { input throws in
            var bytes = Fixtures.torture(input.file)
            guard !bytes.isEmpty else { return }
            for edit in input.edits { bytes[edit.offset % bytes.count] = edit.byte }
            var service = RedirectService()
            let source = SIPSource(host: .ipv4(0x7f00_0001), port: 5060, transport: .udp)
            let response: SIPResponse?
            switch service.receive(bytes, from: source, now: .now) {
            case .respond(let answer, _): response = answer
            case .lookup(let query): response = service.answer(query, contacts: [])
            case .registered(let answer, _, _): response = answer
            case .drop, .forward, .probeAnswer: response = nil
            }
            if let response {
                #expect(throws: Never.self) { try SIPMessage.parse(response.serialized(), transport: .stream) }
            }
        }
    }
}
