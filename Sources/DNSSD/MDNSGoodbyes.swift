/// Goodbyes in an mDNS response (RFC 6762 §10.1): PTR records with TTL 0, read off the wire
/// by `MDNSResponse`.
///
/// A responder that withdraws a service multicasts its records with TTL 0; receivers keep
/// them one more second. A gateway that waits for its own Avahi cache to let go exports
/// the withdrawal a second late, and the importing island's caches add their own second.
/// Reading the goodbye itself removes the first of those seconds.
public enum MDNSGoodbyes {
    public typealias Rejection = MDNSResponse.Rejection

    /// The service instances a datagram says goodbye to (see `services(in:)` of records).
    public static func services(in datagram: [UInt8]) -> Result<[ServiceID], Rejection> {
        MDNSResponse.ptrRecords(in: datagram).map(services(in:))
    }

    /// The targets of the TTL-0 PTR records that name a DNS-SD instance
    /// (`instance._name._proto.local`); goodbyes of other names are skipped.
    public static func services(in records: [MDNSResponse.PTRRecord]) -> [ServiceID] {
        records.filter { $0.ttl == 0 }.compactMap { serviceID($0.target) }
    }

    /// The instances a response announces: targets of PTR records with a TTL (not goodbyes).
    public static func announced(in records: [MDNSResponse.PTRRecord]) -> [ServiceID] {
        records.filter { $0.ttl > 0 }.compactMap { serviceID($0.target) }
    }

    /// An mDNS response saying goodbye (TTL 0, RFC 6762 §10.1) to the PTR records that name
    /// `id`: under its type and under each of `subtypes`. Shared records, so no cache-flush bit.
    /// What a router repeats after withdrawing an import: avahi-daemon may answer a query with
    /// the PTR just after its own goodbye, leaving it cached on the link for its whole TTL.
    public static func packet(for id: ServiceID, subtypes: [Subtype] = []) -> [UInt8] {
        let typeLabels = ["_\(id.type.name)", "_\(id.type.transport.rawValue)"] + id.domain.labels.map(String.init)
        let instance = wireName([Array(id.name.value.utf8)] + typeLabels.map { Array($0.utf8) })
        let owners = [typeLabels] + subtypes.map { [$0.label, "_sub"] + typeLabels }
        var bytes: [UInt8] = [0, 0, 0x84, 0x00, 0, 0, 0, UInt8(owners.count), 0, 0, 0, 0]
        for owner in owners {
            bytes += wireName(owner.map { Array($0.utf8) })
            bytes += [0, 12, 0, 1, 0, 0, 0, 0] // PTR, IN, TTL 0
            bytes += [UInt8(instance.count >> 8), UInt8(instance.count & 0xff)] + instance
        }
        return bytes
    }

    static func wireName(_ labels: [[UInt8]]) -> [UInt8] {
        labels.flatMap { [UInt8($0.prefix(63).count)] + $0.prefix(63) } + [0]
    }

    /// `instance._name._proto.local` as a service id; nil for any other name.
    static func serviceID(_ labels: [[UInt8]]) -> ServiceID? {
        guard labels.count == 4, labels[3].lowercasedASCII == Array("local".utf8),
              let instance = try? InstanceName(bytes: labels[0]),
              let name = String(validating: labels[1], as: UTF8.self),
              let proto = String(validating: labels[2], as: UTF8.self),
              let type = try? ServiceType("\(name).\(proto)") else { return nil }
        return ServiceID(name: instance, type: type)
    }
}
