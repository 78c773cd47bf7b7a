import SIP
import Testing

@Suite struct MessageParserTests {
    static let options = Fixtures.message(
        "OPTIONS sip:alice@example.org SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds",
        "Max-Forwards: 70",
        "To: <sip:alice@example.org>",
        "From: \"Bob\" <sip:bob@example.net>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.example.net",
        "CSeq: 63104 OPTIONS",
        "Content-Length: 0")

    @Test func aPlainRequestHasItsFieldsTyped() throws {
        let request = try SIPRequest(SIPMessage.parse(Self.options))
        #expect(request.method == .options)
        #expect(request.requestURI.description == "sip:alice@example.org")
        #expect(request.via.count == 1)
        #expect(request.via[0].branch == "z9hG4bK776asdhds")
        #expect(request.via[0].port == 5060)
        #expect(request.from.displayName == "Bob")
        #expect(request.from.tag == "1928301774")
        #expect(request.to.tag == nil)
        #expect(request.callID == "a84b4c76e66710@pc33.example.net")
        #expect(request.cseq == SIPCSeq(number: 63104, method: .options))
        #expect(request.maxForwards == 70)
    }

    @Test func theTortuousInviteUnfoldsAndExpandsCompactForms() throws {
        let message = try SIPMessage.parse(Fixtures.torture("wsinv"))
        let request = try SIPRequest(message)
        #expect(request.to.uri.description == "sip:vivekg@chair-dnrc.example.com")
        #expect(request.to.tag == "1918181833n")
        #expect(request.from.displayName == "J Rosenberg \\\"")
        #expect(request.from.tag == "98asjd8")
        #expect(request.maxForwards == 68)
        #expect(request.cseq == SIPCSeq(number: 9, method: .invite))
        #expect(request.via.map(\.transport) == ["UDP", "TCP", "UDP"])
        #expect(request.via.map(\.branch) == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"])
        #expect(request.via[1].host == .name("spindle.example.com"))
        guard case .addresses(let contacts) = request.contacts else {
            Issue.record("no contacts")
            return
        }
        #expect(contacts.count == 1)
        #expect(contacts[0].displayName == "Quoted string \"\"")
        #expect(contacts[0].parameters.value(of: "newparam") == "newvalue")
        #expect(contacts[0].parameters.value(of: "q") == "0.33")
        #expect(message.fields(SIPHeaderName("NewFangledHeader")).first?.value == "newfangled value continued newfangled value")
        #expect(message.fields(SIPHeaderName("subject")).first?.value == "")
        #expect(message.body.count == 150)
    }

    @Test func wideRangeOfValidCharactersIsAccepted() throws {
        let request = try SIPRequest(SIPMessage.parse(Fixtures.torture("intmeth")))
        #expect(request.method.rawValue == "!interesting-Method0123456789_*+`.%indeed'~")
        guard case .sip(let uri) = request.requestURI else {
            Issue.record("not a SIP URI")
            return
        }
        #expect(uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        #expect(request.to.displayName == "BEL:\u{07} NUL:\u{00} DEL:\u{7F}")
        #expect(request.from.displayName == "token1~` token2'+_ token3*%!.-")
        #expect(request.from.parameters.value(of: "fromParam''~+*_!.-%") == "работающий")
        #expect(request.from.tag == "_token~1'+`*%!-.")
    }

    @Test func escapedURIsDecodeToTheSameAddressOfRecord() throws {
        let request = try SIPRequest(SIPMessage.parse(Fixtures.torture("esc01")))
        #expect(try SIPAddressOfRecord(parsing: request.to.uri.description) == SIPAddressOfRecord(parsing: "sip:user@example.com"))
        guard case .addresses(let contacts) = request.contacts, case .sip(let contact) = contacts.first?.uri else {
            Issue.record("no SIP contact")
            return
        }
        #expect(contact.user == "caller")
        #expect(contact.parameter("lr") == .some(nil))
        #expect(contact.parameter("name") == "value%41")
        guard case .sip(let target) = request.requestURI else { return }
        #expect(target.user == "sips:user@example.com")
        #expect(target.host == .name("example.net"))
    }

    @Test func escapedNullsAreBytesOfTheUserPart() throws {
        let request = try SIPRequest(SIPMessage.parse(Fixtures.torture("escnull")))
        guard case .sip(let to) = request.to.uri else { return }
        #expect(to.userBytes == Array("null-".utf8) + [0] + Array("-null".utf8))
        #expect(to.description == "sip:null-%00-null@example.com")
    }

    @Test func percentOutsideEscapesIsAnUnknownMethodAndHeader() throws {
        let request = try SIPRequest(SIPMessage.parse(Fixtures.torture("esc02")))
        #expect(request.method.rawValue == "RE%47IST%45R")
        guard case .addresses(let contacts) = request.contacts else { return }
        #expect(contacts.count == 2)  // C%6Fntact is an extension header, not Contact
        #expect(request.via[0].parameters.contains { $0.name == "rport" && $0.value == nil })
    }

    @Test func trailingBytesOfADatagramAreIgnored() throws {
        let message = try SIPMessage.parse(Fixtures.torture("dblreq"))
        #expect(message.body.isEmpty)
        #expect(try SIPRequest(message).method == .register)
    }

    @Test func noContentLengthOverUDPMeansTheRestOfTheDatagram() throws {
        let message = try SIPMessage.parse(Fixtures.torture("inv2543"))
        #expect(message.body.count == 150)
    }

    @Test func aStreamRequiresContentLength() {
        #expect(throws: SIPRejection.contentLengthMissing) {
            try SIPMessage.parse(Fixtures.torture("inv2543"), transport: .stream)
        }
    }

    @Test func leadingCRLFsAreKeepAlivesAndIgnored() throws {
        let message = try SIPMessage.parse(Array("\r\n\r\n".utf8) + Self.options)
        #expect(String(decoding: message.startLine, as: UTF8.self) == "OPTIONS sip:alice@example.org SIP/2.0")
    }

    @Test func limitsAreCheckedBeforeWork() {
        let tight = SIPLimits(maximumMessageBytes: 100)
        #expect(throws: SIPRejection.messageTooLarge(bytes: Self.options.count)) {
            try SIPMessage.parse(Self.options, limits: tight)
        }
        let fewHeaders = SIPLimits(maximumHeaderFields: 3)
        #expect(throws: SIPRejection.tooManyHeaderFields(count: 4)) {
            try SIPMessage.parse(Self.options, limits: fewHeaders)
        }
        let shortFields = SIPLimits(maximumHeaderFieldBytes: 40)
        #expect(throws: SIPRejection.self) { try SIPMessage.parse(Self.options, limits: shortFields) }
        let manyVias = Fixtures.message(
            "OPTIONS sip:a@b.example SIP/2.0",
            "Via: " + Array(repeating: "SIP/2.0/UDP h.example", count: 70).joined(separator: ","),
            "To: <sip:a@b.example>", "From: <sip:c@d.example>;tag=1", "Call-ID: x", "CSeq: 1 OPTIONS")
        #expect(throws: SIPRejection.tooManyListValues(count: 65)) { try SIPRequest(SIPMessage.parse(manyVias)) }
    }

    @Test func bareLineFeedsAndUnterminatedHeadersAreRejected() {
        #expect(throws: SIPRejection.headerValueInvalidByte(0x0a)) {
            try SIPMessage.parse(Array("OPTIONS sip:a@b SIP/2.0\nVia: x\n\n".utf8))
        }
        #expect(throws: SIPRejection.headerSectionUnterminated) {
            try SIPMessage.parse(Array("OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n".utf8))
        }
        #expect(throws: SIPRejection.continuationWithoutHeader) {
            try SIPMessage.parse(Array("OPTIONS sip:a@b SIP/2.0\r\n folded\r\n\r\n".utf8))
        }
        #expect(throws: SIPRejection.headerNameInvalid) {
            try SIPMessage.parse(Array("OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n".utf8))
        }
        #expect(throws: SIPRejection.messageEmpty) { try SIPMessage.parse([]) }
    }

    @Test func compactFormsNameTheSameHeaders() {
        for (compact, long) in [("v", "Via"), ("f", "From"), ("t", "To"), ("i", "Call-ID"), ("m", "Contact"),
                                ("l", "Content-Length"), ("c", "Content-Type"), ("s", "Subject"), ("k", "Supported"),
                                ("e", "Content-Encoding")] {
            #expect(SIPHeaderName(compact) == SIPHeaderName(long))
            #expect(SIPHeaderName(compact.uppercased()) == SIPHeaderName(long.lowercased()))
        }
        #expect(SIPHeaderName("C%6Fntact") != SIPHeaderName.contact)
    }

    @Test func responsesParseTheirStatusLine() throws {
        let response = try SIPResponse(parsing: SIPMessage.parse(Fixtures.torture("unreason")))
        #expect(response.statusCode == 200)
        #expect(response.reasonPhrase.hasPrefix("= 2**3 * 5**2 но"))
        let empty = try SIPResponse(parsing: SIPMessage.parse(Fixtures.torture("noreason")))
        #expect(empty.reasonPhrase == "")
    }

    @Test func serializedResponsesParseBack() throws {
        let response = SIPResponse(
            statusCode: 302,
            headers: [("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1"), ("From", "<sip:a@b.example>;tag=1"),
                      ("To", "<sip:c@d.example>;tag=2"), ("Call-ID", "x@y"), ("CSeq", "1 INVITE"),
                      ("Contact", "<sip:c@192.0.2.9:5062>")])
        let parsed = try SIPResponse(parsing: SIPMessage.parse(response.serialized(), transport: .stream))
        #expect(parsed.statusCode == 302)
        #expect(parsed.reasonPhrase == "Moved Temporarily")
        #expect(parsed.values(.contact) == ["<sip:c@192.0.2.9:5062>"])
        #expect(parsed.values(.contentLength) == ["0"])
    }

    @Test func everyRejectionHasADistinctSnakeCaseReason() {
        let samples: [SIPRejection] = [
            .messageEmpty, .messageTooLarge(bytes: 1), .tooManyHeaderFields(count: 1), .headerFieldTooLong(bytes: 1),
            .tooManyListValues(count: 1), .tooManyParameters(count: 1), .uriTooLong(bytes: 1),
            .headerSectionUnterminated, .headerLineMalformed, .headerNameInvalid, .headerValueInvalidByte(0),
            .headerValueInvalidUTF8, .continuationWithoutHeader, .contentLengthMalformed, .contentLengthConflict,
            .contentLengthMissing, .bodyTruncated(declared: 1, available: 0), .requestLineMalformed,
            .statusLineMalformed, .methodInvalid, .versionUnsupported("x"), .statusCodeInvalid, .reasonPhraseInvalid,
            .uriSchemeMissing, .uriSchemeUnsupported("x"), .uriUserInvalid, .uriPasswordInvalid, .uriHostInvalid,
            .uriPortInvalid, .uriParameterInvalid, .uriHeaderInvalid, .uriEscapeInvalid, .telNumberInvalid,
            .headerMissing("x"), .headerRepeated("x"), .viaMalformed, .fromMalformed, .toMalformed,
            .contactMalformed, .callIDMalformed, .cseqMalformed, .cseqMethodMismatch, .maxForwardsMalformed,
            .scalarOutOfRange("x"), .quotedStringUnterminated, .displayNameInvalid, .parameterMalformed,
            .responseIgnored, .overloaded,
        ]
        #expect(Set(samples.map(\.reason)).count == samples.count)
        for sample in samples {
            #expect(sample.reason.allSatisfy { $0.isLowercase || $0 == "_" || $0.isNumber })
            #expect(!sample.description.isEmpty)
        }
    }
}
