// libFuzzer entry for the SIP parser and redirect service. Built by Deploy/fuzz-sip together
// with Sources/SIP (minus Announcement/, which needs DNSSD) as one module, so no `import SIP`.
//
// Besides "never crash", it checks invariants that turn logic bugs into crashes:
// - a SIP/SIPS URI that parses prints to text that parses back to an equal URI;
// - every response the redirect service produces frames and parses as a response;
// - the stream framer never returns a message larger than the limit.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSIP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = SIPLimits.default

    if let message = try? SIPMessage.parse(bytes) {
        if message.isResponse {
            _ = try? SIPResponse(parsing: message)
        } else if let request = try? SIPRequest(message) {
            checkRoundTrip(request.requestURI)
            checkRoundTrip(request.to.uri)
            checkRoundTrip(request.from.uri)
        }
    }
    if let text = String(validating: bytes, as: UTF8.self), let uri = try? SIPAnyURI(parsing: text) {
        checkRoundTrip(uri)
    }

    // The plain redirect server, and with the proxy and registrar roles (the gateway's
    // address 127.0.0.1, its link 127.0.0.0/8, so the fuzzer's requests may register and route).
    let routing = SIPRouting(
        mode: bytes.count % 3 == 0 ? .proxy : .redirect,
        identity: SIPNodeIdentity(hosts: [.ipv4(0x7f00_0001)]), localNetworks: [SIPSubnet(network: .ipv4(0x7f00_0000), prefixLength: 8)],
        registrar: Registrar.Configuration(localNetworks: [SIPSubnet(network: .ipv4(0x7f00_0000), prefixLength: 8)]))
    for (transport, routing) in [(SIPSource.Transport.udp, nil), (.tcp, nil), (.udp, routing), (.tcp, routing)] {
        var service = RedirectService(configuration: .init(routing: routing))
        let source = SIPSource(host: .ipv4(0x7f00_0001), port: 5060, transport: transport)
        let response: SIPResponse?
        var step = service.receive(bytes, from: source, now: .now)
        if case .lookup(let query) = step {
            let contact = SIPContact(uri: SIPURI(user: "u", host: .ipv4(0x7f00_0002), port: 5062))
            step = service.complete(query, contacts: bytes.count % 2 == 0 ? [contact] : [], now: .now)
        }
        switch step {
        case .respond(let answer, _), .registered(let answer, _, _): response = answer
        case .forward(let outbound):
            // What the proxy sends on frames as one message again.
            guard (try? SIPMessage.parse(outbound.bytes)) != nil else {
                fatalError("forwarded message does not frame: \(String(decoding: outbound.bytes, as: UTF8.self))")
            }
            response = nil
        case .lookup, .drop, .probeAnswer: response = nil
        }
        if let response {
            // Every answer frames on a stream; answers to well-formed requests also parse as responses
            // (a 400 copies the broken header it complains about, so only its framing is checked).
            let wire = response.serialized()
            let roomy = SIPLimits(
                maximumMessageBytes: 1 << 20, maximumHeaderFields: 4096, maximumHeaderFieldBytes: 1 << 20,
                maximumListValues: 4096, maximumURIBytes: 1 << 20, maximumParameters: 4096)
            guard let framed = try? SIPMessage.parse(wire, transport: .stream, limits: roomy) else {
                fatalError("redirect response does not frame: \(String(decoding: wire, as: UTF8.self))")
            }
            if response.statusCode != 400, response.statusCode != 505, (try? SIPResponse(parsing: framed, limits: roomy)) == nil {
                fatalError("redirect response does not parse: \(String(decoding: wire, as: UTF8.self))")
            }
        }
    }

    var framer = SIPStreamFramer(limits: limits)
    framer.append(bytes)
    while let message = try? framer.next() {
        guard message.count <= limits.maximumMessageBytes else { fatalError("framer exceeded the limit") }
    }
    return 0
}

func checkRoundTrip(_ uri: SIPAnyURI) {
    guard case .sip = uri else { return }
    let printed = uri.description
    guard let again = try? SIPAnyURI(parsing: printed, limits: SIPLimits(maximumURIBytes: 1 << 20)) else {
        fatalError("printed URI does not parse: \(printed)")
    }
    guard again == uri else { fatalError("URI changed in round trip: \(printed) vs \(again)") }
}
