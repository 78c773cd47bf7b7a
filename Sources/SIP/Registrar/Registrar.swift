/// A registrar (RFC 3261 §10.3) for the phones on the gateway's own link, as a pure value.
///
/// A REGISTER binds the To AoR (canonical form, `SIPAddressOfRecord`) to its Contacts, each
/// for its `expires` parameter, else the Expires header, else `defaultExpires`, bounded by
/// `maximumExpires`; a non-zero expiry below `minimumExpires` gets `423` with Min-Expires.
/// `Contact: *` with `Expires: 0` removes every binding of the AoR; a REGISTER without Contact
/// lists them. The Call-ID/CSeq rule of §10.3 step 7 refuses an out-of-order refresh with
/// `500`. Only sources on `localNetworks` may register (`403` otherwise), and with
/// `authentication` a valid Digest response is required (`401` with a challenge).
///
/// Every change is reported as a `RegistrarChange` carrying the AoR's whole contact set, so
/// the adapter can announce each AoR on the link (the draft's `_sipuri._udp` format) and
/// withdraw it when the set becomes empty. Time is a parameter; `expire(now:)` drops bindings
/// whose time is up. Deviations: the registrar serves any domain in the To URI (the island has
/// no domain of its own), and q-values order nothing (the newest binding comes first).
public struct Registrar: Sendable {
    public struct Configuration: Hashable, Sendable {
        public var minimumExpires: Int
        public var maximumExpires: Int
        public var defaultExpires: Int
        public var maximumAddressesOfRecord: Int
        public var maximumContactsPerAddressOfRecord: Int
        /// Who may register: the island's link. Empty: nobody.
        public var localNetworks: [SIPSubnet]
        public var authentication: DigestAuthentication?

        public init(
            minimumExpires: Int = 60, maximumExpires: Int = 3_600, defaultExpires: Int = 3_600,
            maximumAddressesOfRecord: Int = 1_024, maximumContactsPerAddressOfRecord: Int = 8,
            localNetworks: [SIPSubnet] = [], authentication: DigestAuthentication? = nil
        ) {
            self.minimumExpires = minimumExpires
            self.maximumExpires = maximumExpires
            self.defaultExpires = defaultExpires
            self.maximumAddressesOfRecord = maximumAddressesOfRecord
            self.maximumContactsPerAddressOfRecord = maximumContactsPerAddressOfRecord
            self.localNetworks = localNetworks
            self.authentication = authentication
        }
    }

    /// One contact bound to an AoR.
    public struct Binding: Hashable, Sendable {
        public var contact: SIPNameAddress
        public var callID: String
        public var cseq: UInt32
        public var expires: ContinuousClock.Instant

        /// The contact as handed out: the URI and its parameters, without `expires`.
        public var sipContact: SIPContact {
            SIPContact(uri: contact.uri, displayName: contact.displayName,
                       parameters: contact.parameters.filter { $0.name != "expires" && $0.name != "q" })
        }
    }

    /// What the registrar decided about one REGISTER.
    public struct Outcome: Hashable, Sendable {
        public var status: Int
        /// Extra header fields of the response (Contact, Min-Expires, WWW-Authenticate).
        public var headers: [Header]
        public var changes: [RegistrarChange]
        /// Why the request was refused (metric label), nil when it succeeded.
        public var refusal: String?

        public struct Header: Hashable, Sendable {
            public var name: String
            public var value: String
        }
    }

    public let configuration: Configuration
    public let started: ContinuousClock.Instant
    public private(set) var bindings: [SIPAddressOfRecord: [Binding]] = [:]

    public init(configuration: Configuration, started: ContinuousClock.Instant) {
        self.configuration = configuration
        self.started = started
    }

    public mutating func register(_ request: SIPRequest, from source: SIPSource, now: ContinuousClock.Instant) -> Outcome {
        guard configuration.localNetworks.contains(where: { $0.contains(source.host) }) else {
            return refuse(SIPStatus.forbidden, "source_not_local")
        }
        guard case .sip(let toURI) = request.to.uri else { return refuse(SIPStatus.notFound, "aor_not_sip") }
        if let authentication = configuration.authentication, !authentication.credentials.isEmpty {
            let values = request.message.fields(.authorization).map(\.value)
            switch authentication.verify(values, method: request.method, age: now - started) {
            case .success(let user):
                // A password admits its own user's AoR only (no third-party registrations).
                guard toURI.user == user else { return refuse(SIPStatus.forbidden, "user_mismatch") }
            case .failure(let failure):
                let challenge = authentication.challenge(age: now - started, stale: failure == .staleNonce)
                return Outcome(status: SIPStatus.unauthorized, headers: [.init(name: "WWW-Authenticate", value: challenge)],
                               changes: [], refusal: failure.reason)
            }
        }
        let aor = SIPAddressOfRecord(toURI)
        let headerExpires = request.message.fields(.expires).first.flatMap { SIPBytes.decimal($0.value.utf8, maximum: UInt64(UInt32.max)) }
        expire(aor, now: now)
        switch request.contacts {
        case nil:
            return Outcome(status: SIPStatus.ok, headers: contactHeaders(aor, now: now), changes: [], refusal: nil)
        case .wildcard:
            guard headerExpires == 0 else { return refuse(SIPStatus.badRequest, "wildcard_without_expires_zero") }
            let existing = bindings[aor] ?? []
            if let stale = existing.first(where: { $0.callID == request.callID && $0.cseq >= request.cseq.number }) {
                _ = stale
                return refuse(SIPStatus.serverInternalError, "cseq_out_of_order")
            }
            bindings[aor] = nil
            return Outcome(status: SIPStatus.ok, headers: [], changes: existing.isEmpty ? [] : [.unbound(aor)], refusal: nil)
        case .addresses(let contacts):
            var updated = bindings[aor] ?? []
            let before = updated
            for contact in contacts {
                let parameter = contact.parameters.value(of: "expires").flatMap { $0 }.flatMap { SIPBytes.decimal($0.utf8, maximum: UInt64(UInt32.max)) }
                let requested = Int(parameter ?? headerExpires ?? UInt64(configuration.defaultExpires))
                if requested != 0, requested < configuration.minimumExpires {
                    return Outcome(status: SIPStatus.intervalTooBrief,
                                   headers: [.init(name: "Min-Expires", value: String(configuration.minimumExpires))],
                                   changes: [], refusal: "interval_too_brief")
                }
                let seconds = min(requested, configuration.maximumExpires)
                let same = updated.firstIndex { Self.sameContact($0.contact, contact) }
                if let same {
                    let old = updated[same]
                    if old.callID == request.callID, old.cseq >= request.cseq.number {
                        return refuse(SIPStatus.serverInternalError, "cseq_out_of_order")
                    }
                    updated.remove(at: same)
                }
                if seconds > 0 {
                    updated.insert(Binding(contact: contact, callID: request.callID, cseq: request.cseq.number,
                                           expires: now + .seconds(seconds)), at: 0)
                }
            }
            guard updated.count <= configuration.maximumContactsPerAddressOfRecord else {
                return refuse(SIPStatus.forbidden, "too_many_contacts")
            }
            if bindings[aor] == nil, !updated.isEmpty, bindings.count >= configuration.maximumAddressesOfRecord {
                return refuse(SIPStatus.serviceUnavailable, "registrar_full")
            }
            bindings[aor] = updated.isEmpty ? nil : updated
            var changes: [RegistrarChange] = []
            if before.map(\.sipContact) != updated.map(\.sipContact) {
                changes.append(updated.isEmpty ? .unbound(aor) : .bound(aor, updated.map(\.sipContact)))
            }
            return Outcome(status: SIPStatus.ok, headers: contactHeaders(aor, now: now), changes: changes, refusal: nil)
        }
    }

    /// Drops every binding whose time is up.
    public mutating func expire(now: ContinuousClock.Instant) -> [RegistrarChange] {
        var changes: [RegistrarChange] = []
        for aor in bindings.keys.sorted() {
            if let change = expire(aor, now: now) { changes.append(change) }
        }
        return changes
    }

    @discardableResult
    private mutating func expire(_ aor: SIPAddressOfRecord, now: ContinuousClock.Instant) -> RegistrarChange? {
        guard let current = bindings[aor] else { return nil }
        let alive = current.filter { $0.expires > now }
        guard alive.count != current.count else { return nil }
        bindings[aor] = alive.isEmpty ? nil : alive
        return alive.isEmpty ? .unbound(aor) : .bound(aor, alive.map(\.sipContact))
    }

    /// Removes every binding on this hop (the phone stopped answering OPTIONS).
    public mutating func remove(at hop: SIPHop) -> [RegistrarChange] {
        var changes: [RegistrarChange] = []
        for aor in bindings.keys.sorted() {
            guard let current = bindings[aor] else { continue }
            let kept = current.filter { binding in
                if case .sip(let uri) = binding.contact.uri { SIPHop(uri) != hop } else { true }
            }
            guard kept.count != current.count else { continue }
            bindings[aor] = kept.isEmpty ? nil : kept
            changes.append(kept.isEmpty ? .unbound(aor) : .bound(aor, kept.map(\.sipContact)))
        }
        return changes
    }

    /// The earliest instant a binding expires, for the adapter's timer.
    public var nextExpiry: ContinuousClock.Instant? { bindings.values.flatMap { $0.map(\.expires) }.min() }

    /// The live contacts of an AoR, newest first.
    public func contacts(for aor: SIPAddressOfRecord, now: ContinuousClock.Instant) -> [SIPContact] {
        (bindings[aor] ?? []).filter { $0.expires > now }.map(\.sipContact)
    }

    /// The live contacts of every AoR with this user part (`sip:alice@<gateway>`).
    public func contacts(forUser user: [UInt8], now: ContinuousClock.Instant) -> [SIPContact] {
        bindings.keys.sorted().filter { $0.userBytes == user }.flatMap { contacts(for: $0, now: now) }
    }

    /// A registered contact is at this hop.
    public func hasContact(at hop: SIPHop) -> Bool {
        bindings.values.contains { $0.contains { binding in
            if case .sip(let uri) = binding.contact.uri { SIPHop(uri) == hop } else { false }
        } }
    }

    private func contactHeaders(_ aor: SIPAddressOfRecord, now: ContinuousClock.Instant) -> [Outcome.Header] {
        (bindings[aor] ?? []).map { binding in
            let seconds = max(0, (binding.expires - now).components.seconds)
            return .init(name: "Contact", value: binding.sipContact.description + ";expires=\(seconds)")
        }
    }

    private func refuse(_ status: Int, _ reason: String) -> Outcome {
        Outcome(status: status, headers: [], changes: [], refusal: reason)
    }

    /// Contacts compare by URI (RFC 3261 §10.3 step 7 uses URI equality).
    static func sameContact(_ lhs: SIPNameAddress, _ rhs: SIPNameAddress) -> Bool { lhs.uri == rhs.uri }
}

/// A change of the registrar's bindings for one AoR.
public enum RegistrarChange: Hashable, Sendable {
    /// The AoR is now bound to these contacts (newest first).
    case bound(SIPAddressOfRecord, [SIPContact])
    /// The AoR has no binding any more.
    case unbound(SIPAddressOfRecord)

    public var addressOfRecord: SIPAddressOfRecord {
        switch self {
        case .bound(let aor, _), .unbound(let aor): aor
        }
    }
}
