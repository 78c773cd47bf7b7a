/// The proxy, registrar and live-contact roles of the SIP service (RFC 3261 §16.11, §10.3, §11):
/// the decisions taken before the redirect server's, and the completion of a lookup when the
/// gateway forwards instead of redirecting.
extension RedirectService {
    /// The decisions that come before the redirect server's: REGISTER for this gateway, requests
    /// routed through it, requests to contacts it redirected to, `sip:user@<gateway>`. Nil: redirect.
    mutating func route(
        _ request: SIPRequest, routing: SIPRouting, from source: SIPSource, now: ContinuousClock.Instant
    ) -> RedirectStep? {
        let proxy = StatelessProxy(identity: routing.identity, defaultMaxForwards: configuration.defaultMaxForwards)
        let routes = StatelessProxy.routes(of: request, limits: configuration.limits) ?? []
        let routed = if case .sip(let first)? = routes.first?.uri { routing.identity.isUs(first) } else { false }
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
        if request.method == .ack { return .drop(rejection: nil) }
        return redirect(request, from: source, now: now, routed: routed && local)
    }

    func forward(_ request: SIPRequest, proxy: StatelessProxy, from source: SIPSource, to target: SIPURI? = nil) -> RedirectStep {
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

    /// Checks these contacts from now on, like contacts handed out (the home leader's own UAs,
    /// named every few hundred milliseconds, so they never go idle), and answers their health.
    /// Without contact checks nothing is checked and every contact is `unknown`.
    public mutating func watch(_ contacts: [SIPURI], now: ContinuousClock.Instant) -> [SIPHop: ContactProber.Health] {
        guard var prober else { return [:] }
        var health: [SIPHop: ContactProber.Health] = [:]
        for uri in contacts {
            prober.track(uri, now: now)
            let hop = SIPHop(uri)
            health[hop] = prober.health(of: hop)
        }
        self.prober = prober
        return health
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
}
