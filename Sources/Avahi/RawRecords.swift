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

    /// Owner name, label by label.
    var labels: [String]
    var type: UInt16
    var ttl: UInt32
    /// Unique records (SRV, TXT, A, AAAA) carry the cache-flush bit; PTRs are shared.
    var unique: Bool
    var rdata: [UInt8]
    /// Announced in mDNS packets of this protocol only; nil: both.
    var only: AddressFamily? = nil

    /// Owner name in Avahi's escaped presentation form.
    var name: String { Self.presentation(labels) }

    /// An address record: a host has as many as it has addresses of a family, each unique
    /// (cache-flush) yet not in conflict with the others, as avahi-daemon publishes its own
    /// (`AVAHI_PUBLISH_ALLOW_MULTIPLE`).
    var isAddress: Bool { type == Self.typeA || type == Self.typeAAAA }

    /// PTR, SRV and TXT of a service, its subtype PTRs, and the type-enumeration PTR.
    static func service(name: InstanceName, type: ServiceType, subtypes: [Subtype], domain: DomainName,
                        port: UInt16, txt: TXTRecord, target: HostName) -> [RawRecord] {
        let typeLabels = ["_\(type.name)", "_\(type.transport.rawValue)"]
        let domainLabels = domain.labels.map(String.init)
        let instance = [name.value] + typeLabels + domainLabels
        var srv = [UInt8](repeating: 0, count: 4) // priority 0, weight 0
        srv += [UInt8(port >> 8), UInt8(port & 0xff)]
        srv += wireName(target.labels.map(String.init))
        var records = [
            RawRecord(labels: typeLabels + domainLabels, type: typePTR, ttl: defaultTTL, unique: false,
                      rdata: wireName(instance)),
            RawRecord(labels: instance, type: typeSRV, ttl: hostTTL, unique: true, rdata: srv),
            txtRecord(name: name, type: type, domain: domain, txt: txt),
            RawRecord(labels: ["_services", "_dns-sd", "_udp"] + domainLabels, type: typePTR,
                      ttl: defaultTTL, unique: false, rdata: wireName(typeLabels + domainLabels)),
        ]
        for subtype in subtypes {
            records.append(RawRecord(labels: [subtype.label, "_sub"] + typeLabels + domainLabels,
                                     type: typePTR, ttl: defaultTTL, unique: false, rdata: wireName(instance)))
        }
        return records
    }

    /// The TXT record of a service.
    static func txtRecord(name: InstanceName, type: ServiceType, domain: DomainName, txt: TXTRecord) -> RawRecord {
        RawRecord(labels: [name.value, "_\(type.name)", "_\(type.transport.rawValue)"] + domain.labels.map(String.init),
                  type: typeTXT, ttl: defaultTTL, unique: true, rdata: txt.wireFormat)
    }

    /// A and AAAA records of a host (no reverse PTRs: the addresses belong to another
    /// machine), over the protocols `announcedOver` says.
    static func addresses(of host: HostName, _ addresses: [IPAddress]) -> [RawRecord] {
        let labels = host.labels.map(String.init)
        let dualStack = addresses.contains { !$0.isIPv4 }
        return addresses.map {
            RawRecord(labels: labels, type: $0.isIPv4 ? typeA : typeAAAA, ttl: hostTTL, unique: true, rdata: $0.bytes,
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

    /// An mDNS response announcing `records` (RFC 6762 §8.3, §18) in the packets of
    /// `family`: what avahi-daemon will announce too, sent without its wait. Unique records
    /// carry the cache-flush bit. Nil when no record goes over `family`, or when the records
    /// pass `maximumAnnouncement` bytes (avahi-daemon, which splits packets, announces those).
    static func announcement(_ records: [RawRecord], over family: AddressFamily) -> [UInt8]? {
        let sent = records.filter { $0.only == nil || $0.only == family }
        guard !sent.isEmpty, sent.count <= Int(UInt16.max) else { return nil }
        // Header: id 0, flags QR|AA, no questions, the answers, no authority or additional.
        var bytes: [UInt8] = [0, 0, 0x84, 0x00, 0, 0, UInt8(sent.count >> 8), UInt8(sent.count & 0xff), 0, 0, 0, 0]
        for record in sent {
            guard record.rdata.count <= Int(UInt16.max) else { return nil }
            bytes += wireName(record.labels)
            bytes += [UInt8(record.type >> 8), UInt8(record.type & 0xff), record.unique ? 0x80 : 0x00, 0x01]
            bytes += [UInt8(record.ttl >> 24), UInt8((record.ttl >> 16) & 0xff), UInt8((record.ttl >> 8) & 0xff),
                      UInt8(record.ttl & 0xff)]
            bytes += [UInt8(record.rdata.count >> 8), UInt8(record.rdata.count & 0xff)] + record.rdata
            if bytes.count > maximumAnnouncement { return nil }
        }
        return bytes
    }

    /// The largest announcement sent ourselves: one unfragmented datagram on an Ethernet link.
    static let maximumAnnouncement = 1_400

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
