/// A stateless SIP redirect server (RFC 3261 §8.3) for the AoRs the overlay knows, as a pure value.
///
/// INVITE, OPTIONS and MESSAGE to a known AoR get `302 Moved Temporarily` with the AoR's contacts;
/// unknown AoRs `404`; malformed requests `400` when the top Via and CSeq can be read (the client
/// needs them to match the response, RFC 3261 §17.1.3), otherwise nothing. ACK gets nothing;
/// CANCEL gets `200` when it matches an INVITE seen in the last `inviteMemory` (the final
/// response to that INVITE was already sent, so it has no effect, §9.2) and `481` otherwise;
/// `Max-Forwards: 0` gets `483`; other methods `405` with `Allow`; a `Require` the server does
/// not support `420` (§8.2.2.3); a non-SIP Request-URI `416` (§8.2.2.1); SIP/x.y ≠ 2.0 `505`.
///
/// Responses copy Via, From, To, Call-ID and CSeq (§8.2.6.2) and add a To tag derived from the
/// request (Call-ID, From tag, branch, CSeq), so a retransmitted request gets the same tag
/// without any state — the stateless UAS rule of §8.2.7. The top Via gets `received` when the
/// source address differs from sent-by (§18.2.1) and a value for an empty `rport` (RFC 3581).
/// Time is a parameter; the only state is the bounded memory of recent INVITEs for CANCEL.
///
/// With `Configuration.routing` the same value is also the gateway's stateless proxy, registrar
/// and contact prober (`RedirectService+Routing.swift`): REGISTER for the gateway, requests
/// routed through it or sent to contacts it handed out, and `sip:user@<gateway>` are decided
/// there before the redirect; state grows by the registrar's bindings, the contacts handed
/// out recently, and the probes' table, each bounded.
public struct RedirectService: Sendable {
    public struct Configuration: Hashable, Sendable {
        public var limits: SIPLimits
        /// How long an INVITE's transaction is remembered for CANCEL matching (64·T1, §17.2.1).
        public var inviteMemory: Duration
        /// At most this many remembered INVITEs; the oldest go first.
        public var inviteMemoryCapacity: Int
        /// Max-Forwards assumed when the header is missing (RFC 2543 peers), §8.1.1.6.
        public var defaultMaxForwards: Int
        /// The proxy and registrar roles; nil: a redirect server only, as before them.
        public var routing: SIPRouting?

        public init(
            limits: SIPLimits = .default, inviteMemory: Duration = .seconds(32),
            inviteMemoryCapacity: Int = 4_096, defaultMaxForwards: Int = 70, routing: SIPRouting? = nil
        ) {
            self.limits = limits
            self.inviteMemory = inviteMemory
            self.inviteMemoryCapacity = inviteMemoryCapacity
            self.defaultMaxForwards = defaultMaxForwards
            self.routing = routing
        }
    }

    /// The methods this server handles, for `Allow` (RFC 3261 §20.5).
    public static let allowedMethods: [SIPMethod] = [.invite, .ack, .cancel, .options, .message]

    public let configuration: Configuration
    private var recentInvites = RecentTransactions()
    /// Contacts handed out in a 302 recently: requests to them are forwarded (§16.11 role).
    var redirectedContacts = RecentTransactions()
    /// The phones registered here (`routing.registrar`).
    public internal(set) var registrar: Registrar?
    /// Whether the contacts handed out still answer (`routing.probing`).
    public internal(set) var prober: ContactProber?

    public init(configuration: Configuration = Configuration(), now: ContinuousClock.Instant = .now) {
        self.configuration = configuration
        self.registrar = configuration.routing?.registrar.map { Registrar(configuration: $0, started: now) }
        self.prober = configuration.routing?.probing.map { ContactProber(configuration: $0) }
    }

    /// Frames and handles one datagram, or one message cut from a stream.
    public mutating func receive(
        _ bytes: [UInt8], from source: SIPSource, now: ContinuousClock.Instant
    ) -> RedirectStep {
        let transport: SIPTransportKind = source.transport == .udp ? .datagram : .stream
        let message: SIPMessage
        do {
            message = try SIPMessage.parse(bytes, transport: transport, limits: configuration.limits)
        } catch {
            // Framing failed: answer 400 if the header section alone can be read.
            // A header line without colon still leaves the others readable: skip it to find Via and CSeq.
            guard let head = (try? SIPMessage.parseHead(bytes, limits: configuration.limits).message)
                ?? (try? SIPMessage.parseHead(bytes, limits: configuration.limits, skippingMalformedLines: true).message) else {
                return .drop(rejection: error)
            }
            return rejectMalformed(head, error, from: source)
        }
        guard !message.isResponse else {
            guard let routing = configuration.routing else { return .drop(rejection: .responseIgnored) }
            switch StatelessProxy(identity: routing.identity).route(response: message, limits: configuration.limits) {
            case .relay(let outbound): return .forward(outbound)
            case .own(let branch, let statusCode):
                prober?.answered(branch: branch, now: now)
                return .probeAnswer(branch: branch, statusCode: statusCode)
            case .drop(let rejection): return .drop(rejection: rejection)
            }
        }
        let request: SIPRequest
        do {
            request = try SIPRequest(message, limits: configuration.limits)
        } catch {
            return rejectMalformed(message, error, from: source)
        }
        return handle(request, from: source, now: now)
    }

    /// Decides about a parsed request.
    public mutating func handle(_ request: SIPRequest, from source: SIPSource, now: ContinuousClock.Instant) -> RedirectStep {
        if let routing = configuration.routing, let step = route(request, routing: routing, from: source, now: now) {
            return step
        }
        return redirect(request, from: source, now: now, routed: false)
    }

    /// The redirect server's own decision (and, in proxy mode, the AoR lookup before forwarding).
    mutating func redirect(
        _ request: SIPRequest, from source: SIPSource, now: ContinuousClock.Instant, routed: Bool, byUser: Bool = false
    ) -> RedirectStep {
        let proxying = configuration.routing?.mode == .proxy
        if request.method == .ack { return .drop(rejection: nil) }
        if (request.maxForwards ?? configuration.defaultMaxForwards) == 0 {
            return .respond(respond(to: request, status: SIPStatus.tooManyHops, from: source), rejection: nil)
        }
        guard Self.allowedMethods.contains(request.method) || (proxying && request.method != .register) else {
            let allow = Self.allowedMethods.map(\.rawValue).joined(separator: ", ")
            return .respond(
                respond(to: request, status: SIPStatus.methodNotAllowed, from: source, extra: [("Allow", allow)]),
                rejection: nil)
        }
        if request.method != .cancel, !request.requiredExtensions.isEmpty {
            let unsupported = request.requiredExtensions.joined(separator: ", ")
            return .respond(
                respond(to: request, status: SIPStatus.badExtension, from: source, extra: [("Unsupported", unsupported)]),
                rejection: nil)
        }
        let uri: SIPURI
        switch request.requestURI {
        case .sip(let sipURI): uri = sipURI
        case .tel: return .respond(respond(to: request, status: SIPStatus.notFound, from: source), rejection: nil)
        case .other:
            return .respond(respond(to: request, status: SIPStatus.unsupportedURIScheme, from: source), rejection: nil)
        }
        let key = Self.transactionKey(request)
        if request.method == .cancel, !proxying {
            let matched = recentInvites.contains(key, now: now, memory: configuration.inviteMemory)
            let status = matched ? SIPStatus.ok : SIPStatus.callDoesNotExist
            return .respond(respond(to: request, status: status, from: source), rejection: nil)
        }
        if request.method == .invite, !proxying {
            recentInvites.insert(key, now: now, capacity: configuration.inviteMemoryCapacity)
        }
        let query = RedirectQuery(
            addressOfRecord: SIPAddressOfRecord(uri), request: request, source: source,
            requiresSecureContacts: uri.isSecure, routed: routed, byUser: byUser)
        if let registrar {
            let registered = byUser ? registrar.contacts(forUser: uri.userBytes ?? [], now: now)
                : registrar.contacts(for: query.addressOfRecord, now: now)
            if !registered.isEmpty { return complete(query, contacts: registered, now: now) }
        }
        return .lookup(query)
    }

    // MARK: building responses

    func respond(
        to request: SIPRequest, status: Int, from source: SIPSource, extra: [(String, String)] = []
    ) -> SIPResponse {
        var headers: [(name: String, value: String)] = []
        for (index, via) in request.via.enumerated() {
            headers.append(("Via", index == 0 ? Self.stampedVia(via, source: source) : via.raw))
        }
        headers.append(("From", request.from.raw))
        let toTag = request.to.tag == nil ? Self.toTag(request) : nil
        headers.append(("To", request.to.raw + (toTag.map { ";tag=\($0)" } ?? "")))
        headers.append(("Call-ID", request.callID))
        headers.append(("CSeq", request.cseq.description))
        headers += extra.map { (name: $0.0, value: $0.1) }
        return SIPResponse(statusCode: status, headers: headers)
    }

    /// `400 Bad Request (reason)` (or `505`) for a request that failed to parse, built from the raw
    /// header fields when the top Via and CSeq can be read; otherwise the message is dropped.
    private func rejectMalformed(_ message: SIPMessage, _ rejection: SIPRejection, from source: SIPSource) -> RedirectStep {
        guard !message.isResponse else { return .drop(rejection: .responseIgnored) }
        let limits = configuration.limits
        // The client matches a response by top Via branch and CSeq method (RFC 3261 §17.1.3);
        // the CSeq number may be the broken part (RFC 4475 `scalar02`), so only the method is needed.
        guard let vias = try? SIPRequest.parseVia(message, limits: limits),
              let cseqField = message.fields(.cseq).first,
              let cseqMethod = cseqField.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.flatMap(SIPMethod.init)
        else { return .drop(rejection: rejection) }
        // A malformed ACK gets no response either (RFC 3261 §17.2.1: ACKs are never answered).
        if cseqMethod == .ack { return .drop(rejection: rejection) }
        var headers: [(name: String, value: String)] = []
        for (index, via) in vias.enumerated() {
            headers.append(("Via", index == 0 ? Self.stampedVia(via, source: source) : via.raw))
        }
        if let from = message.fields(.from).first { headers.append(("From", from.value)) }
        if let to = message.fields(.to).first {
            let parsed = try? SIPNameAddress(parsing: to.value[...], limits: limits)
            let needsTag = parsed != nil && parsed?.tag == nil
            let tagSeed = (message.fields(.callID).first?.value ?? "") + (vias.first?.branch ?? "") + cseqField.value
            headers.append(("To", to.value + (needsTag ? ";tag=\(Self.hash(tagSeed))" : "")))
        }
        if let callID = message.fields(.callID).first { headers.append(("Call-ID", callID.value)) }
        headers.append(("CSeq", cseqField.value))
        let status: Int
        let reason: String
        if case .versionUnsupported = rejection {
            status = SIPStatus.versionNotSupported
            reason = SIPStatus.defaultReason(status)
        } else {
            status = SIPStatus.badRequest
            reason = "Bad Request (\(rejection.reason))"
        }
        return .respond(SIPResponse(statusCode: status, reasonPhrase: reason, headers: headers), rejection: rejection)
    }

    /// The top Via with `received` (when sent-by is not the source address) and `rport` filled in.
    static func stampedVia(_ via: SIPVia, source: SIPSource) -> String {
        let needsReceived = via.host != source.host && via.parameters.value(of: "received") == nil
        let emptyRport = via.parameters.contains { $0.name == "rport" && $0.value == nil }
        guard needsReceived || emptyRport else { return via.raw }
        var parameters = via.parameters.map { parameter in
            parameter.name == "rport" && parameter.value == nil
                ? SIPParameter(name: "rport", value: String(source.port)) : parameter
        }
        if needsReceived {
            let address: String
            switch source.host {
            case .ipv6(let bytes): address = SIPHost.format(ipv6: bytes)
            default: address = source.host.description
            }
            parameters.append(SIPParameter(name: "received", value: address))
        }
        var text = "\(via.protocolName)/\(via.protocolVersion)/\(via.transport) \(via.host)"
        if let port = via.port { text += ":\(port)" }
        return text + parameters.map { ";" + $0.description }.joined()
    }

    static func toTag(_ request: SIPRequest) -> String {
        hash(request.callID + (request.from.tag ?? "") + (request.via.first?.branch ?? "") + String(request.cseq.number))
    }

    /// Identifies an INVITE transaction for CANCEL matching (RFC 3261 §9.2, §17.2.3).
    static func transactionKey(_ request: SIPRequest) -> String {
        let top = request.via.first
        return [top?.branch ?? "", top.map { "\($0.host):\($0.port ?? 0)" } ?? "", request.callID,
                String(request.cseq.number)].joined(separator: "\u{1}")
    }

    /// FNV-1a, 64 bits, as 16 hex digits: stable across runs and processes, unlike `Hasher`.
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
