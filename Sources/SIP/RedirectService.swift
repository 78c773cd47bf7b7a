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
    private var redirectedContacts = RecentTransactions()
    /// The phones registered here (`routing.registrar`).
    public private(set) var registrar: Registrar?
    /// Whether the contacts handed out still answer (`routing.probing`).
    public private(set) var prober: ContactProber?

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
    private mutating func redirect(
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

    // MARK: proxy and registrar (RFC 3261 §16.11, §10.3)

    /// The decisions that come before the redirect server's: REGISTER for this gateway, requests
    /// routed through it, requests to contacts it redirected to, `sip:user@<gateway>`. Nil: redirect.
    private mutating func route(
        _ request: SIPRequest, routing: SIPRouting, from source: SIPSource, now: ContinuousClock.Instant
    ) -> RedirectStep? {
        let proxy = StatelessProxy(identity: routing.identity, defaultMaxForwards: configuration.defaultMaxForwards)
        let routes = StatelessProxy.routes(of: request, limits: configuration.limits) ?? []
        let routed = proxy.topRouteNamesUs(request)
        let local = routing.localNetworks.contains { $0.contains(source.host) }
        guard case .sip(let uri) = request.requestURI else { return nil }
        let toUs = routing.identity.isUs(uri)
        if request.method == .register {
            if toUs, var registrar {
                let outcome = registrar.register(request, from: source, now: now)
                self.registrar = registrar
                for case .bound(_, let contacts) in outcome.changes {
                    for case .sip(let contact) in contacts.map(\.uri) { prober?.track(contact, now: now) }
                }
                let response = respond(to: request, status: outcome.status, from: source,
                                       extra: outcome.headers.map { ($0.name, $0.value) })
                return .registered(response, changes: outcome.changes, refusal: outcome.refusal)
            }
            if routed, local, !toUs, source.transport == .udp { return forward(request, proxy: proxy, from: source) }
            return nil
        }
        if toUs, routes.count <= 1 {
            if request.method == .ack { return .drop(rejection: nil) }
            guard uri.userBytes != nil else {
                // The gateway itself: phones ping their proxy with OPTIONS (keep-alive).
                guard request.method == .options else { return nil }
                let allow = Self.allowedMethods.map(\.rawValue).joined(separator: ", ")
                return .respond(respond(to: request, status: SIPStatus.ok, from: source, extra: [("Allow", allow)]), rejection: nil)
            }
            return redirect(request, from: source, now: now, routed: routed, byUser: true)
        }
        // A stateless node cannot carry a response back onto a TCP connection: proxy UDP only.
        guard source.transport == .udp else { return nil }
        // Loose routing onward: more Route entries after ours (§16.4, §16.6 step 6), for the
        // island's phones only (anyone else could bounce requests anywhere through us).
        if routed, routes.count > 1, local {
            return forward(request, proxy: proxy, from: source)
        }
        let hop = SIPHop(uri)
        let known = redirectedContacts.contains(hop.description, now: now, memory: routing.contactMemory)
            || registrar?.hasContact(at: hop) == true
        // In-dialog requests, ACKs and CANCELs of forwarded INVITEs, and requests to a contact
        // this gateway handed out or registered go to the Request-URI.
        if known || (routed && local && (request.to.tag != nil || request.method == .ack)) {
            return forward(request, proxy: proxy, from: source)
        }
        if request.method == .ack { return routed && local ? forward(request, proxy: proxy, from: source) : .drop(rejection: nil) }
        return redirect(request, from: source, now: now, routed: routed && local)
    }

    private func forward(_ request: SIPRequest, proxy: StatelessProxy, from source: SIPSource, to target: SIPURI? = nil) -> RedirectStep {
        switch proxy.forward(request, requestURI: target) {
        case .success(let outbound): return .forward(outbound)
        case .failure(let refusal):
            if request.method == .ack { return .drop(rejection: nil) }
            return .respond(respond(to: request, status: refusal.status, from: source), rejection: nil)
        }
    }

    /// Completes a lookup: in proxy mode (or for an AoR without contacts that was routed here
    /// by a phone of this island) the request goes on; otherwise `302` or `404` as `answer`.
    /// Contacts handed out in a `302` are remembered, so the caller's next INVITE is forwarded.
    public mutating func complete(_ query: RedirectQuery, contacts: [SIPContact], now: ContinuousClock.Instant) -> RedirectStep {
        guard let routing = configuration.routing else { return .respond(answer(query, contacts: contacts), rejection: nil) }
        let proxy = StatelessProxy(identity: routing.identity, defaultMaxForwards: configuration.defaultMaxForwards)
        let permitted = contacts.filter { contact in
            guard case .sip(let uri) = contact.uri else { return !query.requiresSecureContacts }
            return !query.requiresSecureContacts || uri.isSecure
        }
        // Contacts that stopped answering OPTIONS are not handed out; if that was all of them,
        // the callee is known but unreachable now: 480 (RFC 3261 §21.4.18).
        let usable = permitted.filter { contact in
            guard case .sip(let uri) = contact.uri else { return true }
            return prober?.health(of: SIPHop(uri)) != .dead
        }
        if usable.isEmpty, !permitted.isEmpty {
            return .respond(respond(to: query.request, status: SIPStatus.temporarilyUnavailable, from: query.source), rejection: nil)
        }
        for case .sip(let uri) in usable.map(\.uri) { prober?.track(uri, now: now) }
        // Over TCP a stateless proxy could not carry the response back: those get the 302.
        if routing.mode == .proxy || query.request.method == .cancel, query.source.transport == .udp,
           let target = usable.lazy.compactMap({ if case .sip(let uri) = $0.uri { uri } else { nil } }).first {
            // The dialog's ACK and BYE go to this contact: forwardable from now on.
            redirectedContacts.insert(SIPHop(target).description, now: now, capacity: configuration.inviteMemoryCapacity)
            return forward(query.request, proxy: proxy, from: query.source, to: target)
        }
        if usable.isEmpty, query.routed, !query.byUser, query.source.transport == .udp {
            return forward(query.request, proxy: proxy, from: query.source)
        }
        for contact in usable {
            if case .sip(let uri) = contact.uri {
                redirectedContacts.insert(SIPHop(uri).description, now: now, capacity: configuration.inviteMemoryCapacity)
            }
        }
        return .respond(answer(query, contacts: usable), rejection: nil)
    }

    /// Drops registrations whose time is up.
    public mutating func expireRegistrations(now: ContinuousClock.Instant) -> [RegistrarChange] {
        guard var registrar else { return [] }
        let changes = registrar.expire(now: now)
        self.registrar = registrar
        return changes
    }

    /// The periodic work: probes to send, registrations expired, and the bindings of phones
    /// that stopped answering removed (they are withdrawn from the link like an unregister).
    public mutating func tick(now: ContinuousClock.Instant) -> (probes: [SIPOutbound], changes: [RegistrarChange]) {
        var changes = expireRegistrations(now: now)
        guard let routing = configuration.routing, var prober else { return ([], changes) }
        let tick = prober.tick(now: now, identity: routing.identity)
        self.prober = prober
        if var registrar, !tick.died.isEmpty {
            for hop in tick.died { changes += registrar.remove(at: hop) }
            self.registrar = registrar
        }
        return (tick.probes, changes)
    }

    /// Completes a lookup: `302` with the contacts, or `404` when there are none (that may be used).
    public func answer(_ query: RedirectQuery, contacts: [SIPContact]) -> SIPResponse {
        let usable = query.requiresSecureContacts
            ? contacts.filter { if case .sip(let uri) = $0.uri { uri.isSecure } else { false } }
            : contacts
        guard !usable.isEmpty else { return respond(to: query.request, status: SIPStatus.notFound, from: query.source) }
        return respond(
            to: query.request, status: SIPStatus.movedTemporarily, from: query.source,
            extra: usable.map { ("Contact", $0.description) })
    }

    /// `503 Service Unavailable` with `Retry-After` for a query the adapter cannot look up now
    /// (too many lookups in flight, or the DHT is unreachable), RFC 3261 §21.5.4.
    public func unavailable(_ query: RedirectQuery, retryAfterSeconds: Int = 1) -> SIPResponse {
        respond(to: query.request, status: SIPStatus.serviceUnavailable, from: query.source,
                extra: [("Retry-After", String(retryAfterSeconds))])
    }

    // MARK: building responses

    private func respond(
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
