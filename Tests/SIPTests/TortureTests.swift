import SIP
import Testing

/// Every RFC 4475 message is parsed or rejected as the RFC expects, and the redirect service
/// answers it as RFC 3261 wants from a redirect server (status code, or nothing).
///
/// `expected` is what the parser must say: a request or response that parses, or the rejection
/// reason. Where RFC 4475 leaves the choice to the element (`baddate`: a Date the server never
/// reads), the comment says which way this parser goes.
@Suite struct TortureTests {
    enum Expected: Sendable, CustomStringConvertible {
        case request
        case response
        case rejected(String)

        var description: String {
            switch self {
            case .request: "request"
            case .response: "response"
            case .rejected(let reason): "rejected(\(reason))"
            }
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let file: String
        let section: String
        let expected: Expected
        /// The redirect service's status code; nil: no response (a response message, ACK, or undecodable).
        let redirect: Int?
        var testDescription: String { "\(section) \(file)" }
    }

    static let cases: [Case] = [
        // §3.1.1 valid messages
        Case(file: "wsinv", section: "3.1.1.1", expected: .request, redirect: 404),
        Case(file: "intmeth", section: "3.1.1.2", expected: .request, redirect: 405),
        Case(file: "esc01", section: "3.1.1.3", expected: .request, redirect: 404),
        Case(file: "escnull", section: "3.1.1.4", expected: .request, redirect: 405),
        Case(file: "esc02", section: "3.1.1.5", expected: .request, redirect: 405),
        Case(file: "lwsdisp", section: "3.1.1.6", expected: .request, redirect: 302),
        Case(file: "longreq", section: "3.1.1.7", expected: .request, redirect: 302),
        Case(file: "dblreq", section: "3.1.1.8", expected: .request, redirect: 405),
        Case(file: "semiuri", section: "3.1.1.9", expected: .request, redirect: 404),
        Case(file: "transports", section: "3.1.1.10", expected: .request, redirect: 302),
        Case(file: "mpart01", section: "3.1.1.11", expected: .request, redirect: 404),
        Case(file: "unreason", section: "3.1.1.12", expected: .response, redirect: nil),
        Case(file: "noreason", section: "3.1.1.13", expected: .response, redirect: nil),
        // §3.1.2 invalid messages
        Case(file: "badinv01", section: "3.1.2.1", expected: .rejected("via_malformed"), redirect: nil),
        Case(file: "clerr", section: "3.1.2.2", expected: .rejected("body_truncated"), redirect: 400),
        Case(file: "ncl", section: "3.1.2.3", expected: .rejected("content_length_malformed"), redirect: 400),
        Case(file: "scalar02", section: "3.1.2.4", expected: .rejected("cseq_malformed"), redirect: 400),
        Case(file: "scalarlg", section: "3.1.2.5", expected: .rejected("cseq_malformed"), redirect: nil),
        Case(file: "quotbal", section: "3.1.2.6", expected: .rejected("to_malformed"), redirect: 400),
        Case(file: "ltgtruri", section: "3.1.2.7", expected: .rejected("uri_scheme_missing"), redirect: 400),
        Case(file: "lwsruri", section: "3.1.2.8", expected: .rejected("request_line_malformed"), redirect: 400),
        Case(file: "lwsstart", section: "3.1.2.9", expected: .rejected("request_line_malformed"), redirect: 400),
        Case(file: "trws", section: "3.1.2.10", expected: .rejected("request_line_malformed"), redirect: 400),
        Case(file: "escruri", section: "3.1.2.11", expected: .rejected("uri_header_invalid"), redirect: 400),
        // The Date is invalid, but a redirect server never reads Date; RFC 4475 §3.1.2.12 lets
        // an element that does not need the field ignore it.
        Case(file: "baddate", section: "3.1.2.12", expected: .request, redirect: 302),
        Case(file: "regbadct", section: "3.1.2.13", expected: .rejected("contact_malformed"), redirect: 400),
        Case(file: "badaspec", section: "3.1.2.14", expected: .rejected("to_malformed"), redirect: 400),
        Case(file: "baddn", section: "3.1.2.15", expected: .rejected("from_malformed"), redirect: 400),
        Case(file: "badvers", section: "3.1.2.16", expected: .rejected("version_unsupported"), redirect: 505),
        Case(file: "mismatch01", section: "3.1.2.17", expected: .rejected("cseq_method_mismatch"), redirect: 400),
        Case(file: "mismatch02", section: "3.1.2.18", expected: .rejected("cseq_method_mismatch"), redirect: 400),
        Case(file: "bigcode", section: "3.1.2.19", expected: .rejected("status_code_invalid"), redirect: nil),
        // §3.2 transaction layer
        Case(file: "badbranch", section: "3.2.1", expected: .request, redirect: 302),
        // §3.3 application layer
        Case(file: "insuf", section: "3.3.1", expected: .rejected("header_missing"), redirect: 400),
        Case(file: "unkscm", section: "3.3.2", expected: .request, redirect: 416),
        Case(file: "novelsc", section: "3.3.3", expected: .request, redirect: 416),
        Case(file: "unksm2", section: "3.3.4", expected: .request, redirect: 405),
        Case(file: "bext01", section: "3.3.5", expected: .request, redirect: 420),
        Case(file: "invut", section: "3.3.6", expected: .request, redirect: 302),
        Case(file: "regaut01", section: "3.3.7", expected: .request, redirect: 405),
        Case(file: "multi01", section: "3.3.8", expected: .rejected("header_repeated"), redirect: 400),
        Case(file: "mcl01", section: "3.3.9", expected: .rejected("content_length_conflict"), redirect: 400),
        Case(file: "bcast", section: "3.3.10", expected: .response, redirect: nil),
        Case(file: "zeromf", section: "3.3.11", expected: .request, redirect: 483),
        Case(file: "cparam01", section: "3.3.12", expected: .request, redirect: 405),
        Case(file: "cparam02", section: "3.3.13", expected: .request, redirect: 405),
        Case(file: "regescrt", section: "3.3.14", expected: .request, redirect: 405),
        Case(file: "sdp01", section: "3.3.15", expected: .request, redirect: 302),
        // §3.4 backward compatibility
        Case(file: "inv2543", section: "3.4.1", expected: .request, redirect: 404),
    ]

    @Test func everyMessageOfTheRFCIsCovered() {
        #expect(Self.cases.count == 49)
        #expect(Set(Self.cases.map(\.file)).count == 49)
        for testCase in Self.cases { #expect(!Fixtures.torture(testCase.file).isEmpty, "\(testCase.file).dat") }
    }

    /// Parses as a datagram, then as the typed request or response; the first rejection wins.
    static func parse(_ bytes: [UInt8]) -> Result<Expected, SIPRejection> {
        do {
            let message = try SIPMessage.parse(bytes)
            if message.isResponse {
                _ = try SIPResponse(parsing: message)
                return .success(.response)
            }
            _ = try SIPRequest(message)
            return .success(.request)
        } catch {
            return .failure(error)
        }
    }

    @Test(arguments: cases) func parserAgreesWithTheRFC(_ testCase: Case) {
        let outcome = Self.parse(Fixtures.torture(testCase.file))
        switch (testCase.expected, outcome) {
        case (.request, .success(.request)), (.response, .success(.response)):
            break
        case (.rejected(let reason), .failure(let rejection)):
            #expect(rejection.reason == reason, "\(testCase.file): \(rejection)")
        default:
            Issue.record("\(testCase.file): expected \(testCase.expected), got \(outcome)")
        }
    }

    @Test(arguments: cases) func redirectServiceAnswersAsARedirectServerShould(_ testCase: Case) throws {
        var service = RedirectService()
        let source = SIPSource(host: .ipv4(0xc000_0263), port: 5060, transport: .udp)
        let step = service.receive(Fixtures.torture(testCase.file), from: source, now: .now)
        let contact = SIPContact(uri: SIPURI(user: "user", host: .ipv4(0xc000_024d), port: 5060))
        let status: Int?
        switch step {
        case .respond(let response, _): status = response.statusCode
        case .drop, .forward, .probeAnswer: status = nil
        case .registered(let response, _, _): status = response.statusCode
        case .lookup(let query):
            let known = query.addressOfRecord == (try SIPAddressOfRecord(parsing: "sip:user@example.com"))
            status = service.answer(query, contacts: known ? [contact] : []).statusCode
        }
        #expect(status == testCase.redirect, "\(testCase.file)")
    }

    /// With the proxy and registrar roles on (the gateway at 192.0.2.99, its link 192.0.2.0/24,
    /// which holds the torture tests' source), a message the parser rejects gets exactly the
    /// answer the plain redirect server gives, and whatever the gateway sends frames again.
    @Test(arguments: cases) func theProxyAndRegistrarRolesAnswerMalformedMessagesAsBefore(_ testCase: Case) throws {
        let link = try #require(SIPSubnet("192.0.2.0/24"))
        let routing = SIPRouting(identity: SIPNodeIdentity(hosts: [.ipv4(0xc000_0263)]), localNetworks: [link],
                                 registrar: Registrar.Configuration(localNetworks: [link]))
        var service = RedirectService(configuration: .init(routing: routing))
        let source = SIPSource(host: .ipv4(0xc000_0263), port: 5060, transport: .udp)
        var step = service.receive(Fixtures.torture(testCase.file), from: source, now: .now)
        if case .lookup(let query) = step { step = service.complete(query, contacts: [], now: .now) }
        let status: Int?
        switch step {
        case .respond(let response, _), .registered(let response, _, _):
            status = response.statusCode
            #expect(throws: Never.self) { try SIPMessage.parse(response.serialized(), transport: .stream) }
        case .forward(let outbound):
            status = nil
            #expect(throws: Never.self, "\(testCase.file)") { try SIPMessage.parse(outbound.bytes) }
        case .lookup, .drop, .probeAnswer:
            status = nil
        }
        if case .rejected = testCase.expected {
            #expect(status == testCase.redirect, "\(testCase.file)")
        }
    }

    @Test(arguments: cases) func everyPrefixOfEveryMessageIsHandledWithoutCrashing(_ testCase: Case) {
        let bytes = Fixtures.torture(testCase.file)
        var service = RedirectService()
        let source = SIPSource(host: .ipv4(0x7f00_0001), port: 5060, transport: .udp)
        for cut in stride(from: 0, through: bytes.count, by: 7) {
            _ = Self.parse(Array(bytes[..<cut]))
            _ = service.receive(Array(bytes[..<cut]), from: source, now: .now)
        }
    }
}
