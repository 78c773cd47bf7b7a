/// The service types an mDNS response names, read off the wire by `MDNSResponse`: each
/// DNS-SD PTR record names one, whichever responder sent it.
///
/// Avahi learns the types on a link only from the enumeration name
/// `_services._dns-sd._udp.local` (RFC 6763 §9), and backs its queries for that name off
/// towards an hour. Responders other than Avahi (python-zeroconf and the devices built on
/// it) announce a new service's PTR, SRV, TXT and address records but not the enumeration
/// PTR, so a gateway that waits for Avahi learns its type only at the next query, which
/// can be as far off as the gateway has been running, up to an hour (30 s for one published
/// half a minute after start, measured). Every announcement of a service, and every answer
/// to a browser, carries a PTR record whose owner is the type, so a gateway reading the link
/// learns the type at once.
public enum MDNSTypes {
    /// The types a datagram names (see `types(in:)` of records).
    public static func types(in datagram: [UInt8]) -> Result<[ServiceType], MDNSResponse.Rejection> {
        MDNSResponse.ptrRecords(in: datagram).map(types(in:))
    }

    /// The distinct types named by live PTR records (goodbyes name a type that may be
    /// going), in the order first named:
    /// - `_name._proto.local PTR <instance>` names `_name._proto`;
    /// - a subtype, `<sub>._sub._name._proto.local PTR <instance>`, names `_name._proto`;
    /// - the enumeration record, `_services._dns-sd._udp.local PTR _name._proto.local`,
    ///   names its target.
    /// Other PTR records (reverse lookups under `in-addr.arpa`, names outside `local`,
    /// types that break RFC 6763) name none.
    public static func types(in records: [MDNSResponse.PTRRecord]) -> [ServiceType] {
        var seen: Set<ServiceType> = []
        return records.filter { $0.ttl > 0 }.compactMap { record in
            let named = isEnumeration(record.owner) ? serviceType(record.target) : serviceType(record.owner)
            guard let named, seen.insert(named).inserted else { return nil }
            return named
        }
    }

    /// `_name._proto.local`, or `<sub>._sub._name._proto.local`, as a service type; nil for
    /// any other name.
    static func serviceType(_ labels: [[UInt8]]) -> ServiceType? {
        let local = Array("local".utf8)
        let type: ArraySlice<[UInt8]>
        switch labels.count {
        case 3: type = labels[0..<2]
        case 5 where labels[1].lowercasedASCII == Array("_sub".utf8): type = labels[2..<4]
        default: return nil
        }
        guard labels[labels.count - 1].lowercasedASCII == local,
              let name = type.first.flatMap({ String(validating: $0, as: UTF8.self) }),
              let proto = type.last.flatMap({ String(validating: $0, as: UTF8.self) }) else { return nil }
        return try? ServiceType("\(name).\(proto)")
    }

    private static func isEnumeration(_ labels: [[UInt8]]) -> Bool {
        labels.map(\.lowercasedASCII) == ["_services", "_dns-sd", "_udp", "local"].map { Array($0.utf8) }
    }
}
