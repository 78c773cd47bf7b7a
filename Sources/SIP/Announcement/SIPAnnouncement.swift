import DNSSD

/// A SIP user agent's DNS-SD announcement: its address of record, how to reach it, and what it
/// can do — the format of draft-lee-sip-dns-sd-uri-03, plus plain `_sip` services.
///
/// Draft format (`Services/README-sip.md` has the full description and the sources):
/// - service type `_sipuri._udp` or `_sipuri._tcp`;
/// - instance name `<SIP or SIPS URI> [SP description]`, the URI being the UA's AoR
///   (`sip:alice@example.org Alice's desk phone`);
/// - TXT `txtvers=1`, `name=<display name>`, and `contact=<SIP URI>;feature-params`: one SIP or
///   SIPS URI, like a Contact header value, whose RFC 3840 feature parameters (`audio`,
///   `video`, `methods="INVITE,MESSAGE"`) are the UA's capabilities.
///
/// Plain `_sip._udp`, `_sip._tcp` and `_sips._tcp` services carry no standard AoR. The AoR is
/// taken, in order, from an instance name that starts with `sip:`/`sips:`, from a TXT `aor`
/// key (a z2z extension), or from a TXT `user` key with the SRV host (`sip:user@host.local`,
/// what baresip's Avahi module announces); a service with none of them is refused with
/// `addressOfRecordMissing`. The same fallbacks apply to a `_sipuri` service whose instance
/// name is not a URI.
///
/// Deviation: the draft also lists `_sipuri._sctp`; RFC 6763 §7 names every non-TCP service
/// `_udp`, so SCTP UAs are announced as `_sipuri._udp` with `;transport=sctp` on the contact.
public struct SIPAnnouncement: Hashable, Sendable {
    public enum Style: String, Hashable, Sendable {
        /// `_sipuri._udp` / `_sipuri._tcp` (draft-lee-sip-dns-sd-uri-03).
        case sipURI
        /// `_sip._udp` / `_sip._tcp` / `_sips._tcp` (RFC 3263 SRV names used as DNS-SD types).
        case plain
    }

    /// The TXT `txtvers` this code writes and accepts.
    public static let txtVersion = "1"
    /// TXT key (z2z) of a binding a gateway's registrar announces for a phone that registered
    /// with it: the gateway exports it although it published it itself.
    public static let registrarKey = "z2z-registrar"

    /// The service is a registrar binding a gateway announced (TXT `z2z-registrar`).
    public static func isRegistrarBinding(_ service: ServiceInstance) -> Bool {
        isSIPServiceType(service.type) && service.txt[registrarKey] != nil
    }

    public static let sipURIUDP = serviceType("_sipuri._udp")
    public static let sipURITCP = serviceType("_sipuri._tcp")
    public static let sipUDP = serviceType("_sip._udp")
    public static let sipTCP = serviceType("_sip._tcp")
    public static let sipsTCP = serviceType("_sips._tcp")
    /// Every service type this type reads; the gateway browses these.
    public static let serviceTypes = [sipURIUDP, sipURITCP, sipUDP, sipTCP, sipsTCP]

    /// The AoR URI as announced (scheme, user, host; a port or parameters are kept here but not in the AoR).
    public var uri: SIPURI
    /// Free text after the URI in the instance name.
    public var label: String?
    /// TXT `name`: the user's display name.
    public var displayName: String?
    /// TXT `contact`'s URI, when the UA gave one.
    public var contact: SIPURI?
    /// TXT `contact`'s feature parameters (RFC 3840): `audio`, `video`, `methods="..."`, ...
    public var capabilities: [SIPParameter]
    public var style: Style

    public var addressOfRecord: SIPAddressOfRecord { SIPAddressOfRecord(uri) }

    public init(
        uri: SIPURI, label: String? = nil, displayName: String? = nil, contact: SIPURI? = nil,
        capabilities: [SIPParameter] = [], style: Style = .sipURI
    ) {
        self.uri = uri
        self.label = label
        self.displayName = displayName
        self.contact = contact
        self.capabilities = capabilities
        self.style = style
    }

    public static func isSIPServiceType(_ type: ServiceType) -> Bool { serviceTypes.contains(type) }

    /// Reads an announcement from a resolved DNS-SD service.
    public init(service: ServiceInstance, limits: SIPLimits = .default) throws(SIPAnnouncementRejection) {
        guard Self.isSIPServiceType(service.type) else { throw .notSIPServiceType(service.type.description) }
        self.style = service.type.name == "sipuri" ? .sipURI : .plain
        if let version = service.txt["txtvers"]?.text, version != Self.txtVersion {
            throw .txtVersionUnsupported(version)
        }
        let name = service.name.value
        let firstWord = name.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        if let head = firstWord.first, SIPBytes.lowercased(head).hasPrefix("sip:") || SIPBytes.lowercased(head).hasPrefix("sips:") {
            do { self.uri = try SIPURI(parsing: String(head), limits: limits) } catch { throw .addressOfRecordInvalid(error) }
            self.label = firstWord.count > 1 ? String(firstWord[1]) : nil
        } else if let aor = service.txt["aor"]?.text {
            do { self.uri = try SIPURI(parsing: aor, limits: limits) } catch { throw .addressOfRecordInvalid(error) }
            self.label = name
        } else if let user = service.txt["user"]?.text, !user.isEmpty {
            let host: SIPHost
            do { host = try SIPHost(parsing: service.host.value) } catch { throw .addressOfRecordInvalid(error) }
            self.uri = SIPURI(isSecure: service.type == Self.sipsTCP, user: user, host: host)
            self.label = name
        } else {
            throw .addressOfRecordMissing
        }
        if service.type == Self.sipsTCP { uri.isSecure = true }
        self.displayName = service.txt["name"]?.text
        self.contact = nil
        self.capabilities = []
        if let text = service.txt["contact"]?.text {
            let contact: SIPNameAddress
            do { contact = try SIPNameAddress(parsing: text[...], limits: limits) } catch { throw .contactInvalid(error) }
            guard case .sip(let contactURI) = contact.uri else { throw .contactNotSIP(contact.uri.scheme) }
            self.contact = contactURI
            self.capabilities = contact.parameters
        }
    }

    /// The DNS-SD service that announces this UA in the draft's format.
    /// `registrar` names the gateway that announces a phone registered with it (TXT `z2z-registrar`).
    public func serviceInstance(
        host: HostName, port: UInt16, transport: TransportProtocol = .udp, addresses: [IPAddress] = [],
        domain: DomainName = .local, registrar: String? = nil
    ) throws(SIPAnnouncementRejection) -> ServiceInstance {
        let nameText = uri.description + (label.map { " " + $0 } ?? "")
        var entries: [TXTEntry] = []
        do {
            let name = try InstanceName(nameText)
            entries.append(try TXTEntry(key: "txtvers", text: Self.txtVersion))
            if let displayName { entries.append(try TXTEntry(key: "name", text: displayName)) }
            if let contact {
                let text = "<\(contact)>" + capabilities.map { ";" + $0.description }.joined()
                entries.append(try TXTEntry(key: "contact", text: text))
            }
            if let registrar { entries.append(try TXTEntry(key: Self.registrarKey, text: registrar)) }
            let type = transport == .tcp ? Self.sipURITCP : Self.sipURIUDP
            return ServiceInstance(
                name: name, type: type, domain: domain, host: host, port: port,
                txt: try TXTRecord(entries: entries), addresses: addresses)
        } catch {
            throw .dnssd(error)
        }
    }

    /// The contacts another island can use to reach the UA, as the gateway exports them.
    ///
    /// The TXT contact is used as given unless its host is only meaningful on the UA's link — a
    /// `.local` name or a link-local address — in which case, like a URI without TXT contact, it
    /// is rebuilt on each routable address of the resolved service (SRV port, `transport=tcp`
    /// for TCP types). Without any routable address the list is empty: the UA is not exported.
    public func contacts(for service: ServiceInstance) -> [SIPContact] {
        let features = capabilities
        if let contact, !Self.isLinkScoped(contact.host) {
            return [SIPContact(uri: contact, displayName: displayName, parameters: features)]
        }
        let port = contact?.port ?? service.port
        let secure = uri.isSecure || service.type == Self.sipsTCP
        var parameters = contact?.parameters.filter { $0.name != "maddr" } ?? []
        if service.type.transport == .tcp, !secure, !parameters.contains(where: { $0.name == "transport" }) {
            parameters.append(SIPURIParameter(name: "transport", value: "tcp"))
        }
        return service.routableAddresses.compactMap { address in
            guard let host = try? SIPHost(parsing: address.isIPv4 ? address.description : "[\(address)]") else { return nil }
            var target = SIPURI(isSecure: secure, host: host, port: port, parameters: parameters)
            target.userBytes = contact?.userBytes ?? uri.userBytes
            return SIPContact(uri: target, displayName: displayName, parameters: features)
        }
    }

    /// The TXT an importing gateway publishes for a UA of another island (`original`: the
    /// service as its own island sees it; `addresses` and `port`: where the import points).
    /// A TXT `contact` on a `.local` name or link-local address, which this island cannot
    /// resolve, becomes the UA's user at the first of those addresses (feature parameters
    /// kept); a plain `_sip` service whose AoR came from TXT `user` and its own host gets `aor`,
    /// since its host name here is synthesized. Everything else stays byte for byte, as does
    /// a TXT that does not read as a UA.
    public static func importedTXT(of original: ServiceInstance, publishedAt addresses: [IPAddress], port: UInt16) -> TXTRecord {
        guard let announcement = try? SIPAnnouncement(service: original) else { return original.txt }
        var replacements: [String: String] = [:]
        if let contact = announcement.contact, isLinkScoped(contact.host) {
            var here = original
            here.addresses = addresses
            here.port = port
            if let routable = announcement.contacts(for: here).first, case .sip(let uri) = routable.uri {
                replacements["contact"] = "<\(uri)>" + announcement.capabilities.map { ";" + $0.description }.joined()
            }
        }
        let namedByURI = original.name.value.lowercased().hasPrefix("sip:") || original.name.value.lowercased().hasPrefix("sips:")
        if announcement.style == .plain, !namedByURI, original.txt["aor"] == nil {
            replacements["aor"] = announcement.addressOfRecord.description
        }
        guard !replacements.isEmpty else { return original.txt }
        var entries: [TXTEntry] = []
        for entry in original.txt.entries {
            if let text = replacements.removeValue(forKey: entry.key.lowercased()) {
                guard let replaced = try? TXTEntry(key: entry.key, text: text) else { return original.txt }
                entries.append(replaced)
            } else {
                entries.append(entry)
            }
        }
        for (key, text) in replacements.sorted(by: { $0.key < $1.key }) {
            guard let added = try? TXTEntry(key: key, text: text) else { return original.txt }
            entries.append(added)
        }
        return (try? TXTRecord(entries: entries)) ?? original.txt
    }

    static func isLinkScoped(_ host: SIPHost) -> Bool {
        switch host {
        case .name(let name): return name.hasSuffix(".local") || name.hasSuffix(".local.")
        case .ipv4(let value): return value >> 16 == 0xa9fe
        case .ipv6(let bytes): return bytes.count == 16 && bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80
        }
    }

    private static func serviceType(_ text: String) -> ServiceType {
        do { return try ServiceType(text) } catch {
            preconditionFailure("SIP service type literal \(text) is invalid: \(error)")
        }
    }
}

/// Why a DNS-SD service could not be read as, or turned into, a SIP announcement.
public enum SIPAnnouncementRejection: Error, Hashable, Sendable, CustomStringConvertible {
    case notSIPServiceType(String)
    case txtVersionUnsupported(String)
    case addressOfRecordMissing
    case addressOfRecordInvalid(SIPRejection)
    case contactInvalid(SIPRejection)
    case contactNotSIP(String)
    case dnssd(DNSSDError)

    /// Stable snake_case code for metrics and logs.
    public var reason: String {
        switch self {
        case .notSIPServiceType: "not_sip_service_type"
        case .txtVersionUnsupported: "txt_version_unsupported"
        case .addressOfRecordMissing: "address_of_record_missing"
        case .addressOfRecordInvalid: "address_of_record_invalid"
        case .contactInvalid: "contact_invalid"
        case .contactNotSIP: "contact_not_sip"
        case .dnssd: "dnssd_invalid"
        }
    }

    public var description: String {
        switch self {
        case .notSIPServiceType(let type): "\(type) is not a SIP service type"
        case .txtVersionUnsupported(let version): "TXT txtvers=\(version); only \(SIPAnnouncement.txtVersion) is understood"
        case .addressOfRecordMissing: "no AoR: the instance name is not a SIP URI and TXT has neither aor nor user"
        case .addressOfRecordInvalid(let rejection): "the AoR is not a SIP URI: \(rejection)"
        case .contactInvalid(let rejection): "TXT contact is malformed: \(rejection)"
        case .contactNotSIP(let scheme): "TXT contact has scheme \(scheme); the draft allows only sip and sips"
        case .dnssd(let error): "cannot be announced: \(error)"
        }
    }
}
