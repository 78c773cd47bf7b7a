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
