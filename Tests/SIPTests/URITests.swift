import SIP
import Testing

@Suite struct URITests {
    @Test func sipURIPartsAreSeparated() throws {
        let uri = try SIPURI(parsing: "sips:alice:secret@Atlanta.Example.COM:5061;transport=TCP;lr?subject=project%20x&priority=urgent")
        #expect(uri.isSecure)
        #expect(uri.user == "alice")
        #expect(uri.password == "secret")
        #expect(uri.host == .name("atlanta.example.com"))
        #expect(uri.port == 5061)
        #expect(uri.parameter("TRANSPORT") == "TCP")
        #expect(uri.parameter("lr") == .some(nil))
        #expect(uri.headers == [SIPURIHeader(name: "subject", value: "project x"), SIPURIHeader(name: "priority", value: "urgent")])
        #expect(uri.description == "sips:alice:secret@atlanta.example.com:5061;transport=TCP;lr?subject=project%20x&priority=urgent")
    }

    @Test func hostsMayBeIPv4OrIPv6References() throws {
        #expect(try SIPURI(parsing: "sip:bob@192.0.2.4").host == .ipv4(0xc000_0204))
        let v6 = try SIPURI(parsing: "sip:bob@[2001:DB8:0:0::1]:5060")
        #expect(v6.host.description == "[2001:db8::1]")
        #expect(v6.port == 5060)
        #expect(try SIPURI(parsing: "sip:[::ffff:192.0.2.1]").host.description == "[::ffff:c000:201]")
        #expect(try SIPHost(parsing: "[::]") == .ipv6([UInt8](repeating: 0, count: 16)))
        for bad in ["sip:bob@[2001:db8::1", "sip:bob@[1::2::3]", "sip:bob@[1:2:3:4:5:6:7:8:9]", "sip:bob@[1:2:]",
                    "sip:bob@host.123", "sip:bob@-host.example", "sip:bob@", "sip:bob@host:99999", "sip:bob@host:"] {
            #expect(throws: SIPRejection.self, "\(bad)") { try SIPURI(parsing: bad) }
        }
    }

    @Test func schemeAndHostIgnoreCaseButUserDoesNot() throws {
        #expect(try SIPURI(parsing: "SIP:alice@EXAMPLE.org") == SIPURI(parsing: "sip:alice@example.org"))
        #expect(try SIPURI(parsing: "sip:Alice@example.org") != SIPURI(parsing: "sip:alice@example.org"))
        #expect(try SIPURI(parsing: "sip:%61lice@example.org") == SIPURI(parsing: "sip:alice@example.org"))
    }

    @Test func badEscapesAndCharactersAreRejected() {
        #expect(throws: SIPRejection.uriUserInvalid) { try SIPURI(parsing: "sip:al%2xce@example.org") }
        #expect(throws: SIPRejection.uriUserInvalid) { try SIPURI(parsing: "sip:al<ce@example.org") }
        #expect(throws: SIPRejection.uriParameterInvalid) { try SIPURI(parsing: "sip:example.org;=x") }
        #expect(throws: SIPRejection.uriHeaderInvalid) { try SIPURI(parsing: "sip:example.org?novalue") }
        #expect(throws: SIPRejection.uriSchemeMissing) { try SIPAnyURI(parsing: "no-scheme-here") }
        #expect(throws: SIPRejection.uriSchemeUnsupported("http")) { try SIPURI(parsing: "http://example.org") }
    }

    @Test func telURIsDropVisualSeparators() throws {
        let uri = try SIPAnyURI(parsing: "tel:+1-201-555-0123;ext=42")
        guard case .tel(let tel) = uri else {
            Issue.record("not tel")
            return
        }
        #expect(tel.number == "+12015550123")
        #expect(tel.isGlobal)
        #expect(tel.parameters == [SIPURIParameter(name: "ext", value: "42")])
        #expect(try SIPAnyURI(parsing: "tel:7042;phone-context=example.com").description == "tel:7042;phone-context=example.com")
        #expect(throws: SIPRejection.telNumberInvalid) { try SIPAnyURI(parsing: "tel:7042") }
        #expect(throws: SIPRejection.telNumberInvalid) { try SIPAnyURI(parsing: "tel:+") }
    }

    @Test func otherSchemesAreKeptOpaque() throws {
        #expect(try SIPAnyURI(parsing: "soap.beep://192.0.2.103:3002") == .other(scheme: "soap.beep", rest: "//192.0.2.103:3002"))
    }

    @Test func addressOfRecordDropsPortParametersAndHeadersAndLowercasesTheHost() throws {
        let aor = try SIPAddressOfRecord(parsing: "sips:Alice@Example.ORG:5061;transport=tcp;user=phone?subject=x")
        #expect(aor.description == "sip:Alice@example.org")
        #expect(aor == (try SIPAddressOfRecord(parsing: "sip:%41lice@example.org")))
        #expect(aor != (try SIPAddressOfRecord(parsing: "sip:alice@example.org")))
        #expect(try SIPAddressOfRecord(parsing: "sip:conference.example.org").description == "sip:conference.example.org")
        #expect(try SIPAddressOfRecord(parsing: "sip:user;par=u%40example.net@example.com").description
            == "sip:user;par=u%40example.net@example.com")
        #expect(try SIPAddressOfRecord(parsing: "sip:a%20b@[2001:db8::1]:5060").description == "sip:a%20b@[2001:db8::1]")
    }
}
