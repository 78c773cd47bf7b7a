import DNSSD

/// The DNS resource records that make up one DNS-SD service (RFC 6763 §4–§7, §9) or one
/// host's address records, built by hand so they can be announced without probing.
///
/// Avahi's service API always probes a new name first (about 0.85 s before anyone sees
/// it). A gateway that imports a remote service already knows every name on its link, so it
/// can pick a free name and announce at once: these records go through
/// `avahi_entry_group_add_record` with `AVAHI_PUBLISH_NO_PROBE`. They are the records
/// Avahi's own `add_service` would make, with its TTLs.
struct RawRecord: Hashable, Sendable {
    static let typeA: UInt16 = 1, typePTR: UInt16 = 12, typeTXT: UInt16 = 16, typeAAAA: UInt16 = 28, typeSRV: UInt16 = 33
    /// Avahi's defaults: host-bound records (SRV, A, AAAA) 120 s, the rest 75 minutes.
    static let hostTTL: UInt32 = 120, defaultTTL: UInt32 = 4500

    /// Owner name in Avahi's escaped presentation form.
    var name: String
    var type: UInt16
    var ttl: UInt32
    /// Unique records (SRV, TXT, A, AAAA) carry the cache-flush bit; PTRs are shared.
    var unique: Bool
    var rdata: [UInt8]
    /// Announced in mDNS packets of this protocol only; nil: both.
    var only: AddressFamily? = nil

    /// PTR, SRV and TXT of a service, its subtype PTRs, and the type-enumeration PTR.
    static func service(name: InstanceName, type: ServiceType, subtypes: [Subtype], domain: DomainName,
                        port: UInt16, txt: TXTRecord, target: HostName) -> [RawRecord] {
        let typeLabels = ["_\(type.name)", "_\(type.transport.rawValue)"]
        let domainLabels = domain.labels.map(String.init)
        let instance = [name.value] + typeLabels + domainLabels
        let instanceName = presentation(instance)
        var srv = [UInt8](repeating: 0, count: 4) // priority 0, weight 0
        srv += [UInt8(port >> 8), UInt8(port & 0xff)]
        srv += wireName(target.labels.map(String.init))
        var records = [
            RawRecord(name: presentation(typeLabels + domainLabels), type: typePTR, ttl: defaultTTL, unique: false,
                      rdata: wireName(instance)),
            RawRecord(name: instanceName, type: typeSRV, ttl: hostTTL, unique: true, rdata: srv),
            RawRecord(name: instanceName, type: typeTXT, ttl: defaultTTL, unique: true, rdata: txt.wireFormat),
            RawRecord(name: presentation(["_services", "_dns-sd", "_udp"] + domainLabels), type: typePTR,
                      ttl: defaultTTL, unique: false, rdata: wireName(typeLabels + domainLabels)),
        ]
        for subtype in subtypes {
            records.append(RawRecord(name: presentation([subtype.label, "_sub"] + typeLabels + domainLabels),
                                     type: typePTR, ttl: defaultTTL, unique: false, rdata: wireName(instance)))
        }
        return records
    }

    /// A and AAAA records of a host (no reverse PTRs: the addresses belong to another
    /// machine), over the protocols `announcedOver` says.
    static func addresses(of host: HostName, _ addresses: [IPAddress]) -> [RawRecord] {
        let name = presentation(host.labels.map(String.init))
        let dualStack = addresses.contains { !$0.isIPv4 }
        return addresses.map {
            RawRecord(name: name, type: $0.isIPv4 ? typeA : typeAAAA, ttl: hostTTL, unique: true, rdata: $0.bytes,
                      only: announcedOver($0, dualStack: dualStack))
        }
    }

    /// The protocol a host's address record is announced over. For a host with IPv6
    /// addresses, as avahi-daemon announces its own host's (`publish-a-on-ipv6=no`,
    /// `publish-aaaa-on-ipv4=yes`): A records over IPv4 only, AAAA records over both. An A
    /// record in IPv6 packets is what a resolver asking over IPv6 for any address (Avahi's,
    /// as `avahi-browse -r` uses it) may find first: the IPv6 address of a dual-stack import
    /// was hidden behind its IPv4 one. A host with IPv4 addresses only keeps its A records
    /// over both, or its services, announced over both, would not resolve over IPv6.
    static func announcedOver(_ address: IPAddress, dualStack: Bool) -> AddressFamily? {
        address.isIPv4 && dualStack ? .ipv4 : nil
    }

    /// Labels joined with dots, each escaped the way Avahi parses names.
    static func presentation(_ labels: [String]) -> String {
        labels.map(AvahiEscaping.escapeLabel).joined(separator: ".")
    }

    /// Uncompressed DNS wire form: length-prefixed labels and the root label. Labels are at
    /// most 63 bytes by the types' own validation.
    static func wireName(_ labels: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for label in labels {
            let bytes = Array(label.utf8.prefix(63))
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out.append(0)
        return out
    }
}
