import DNSSD
import SIP

/// A SIP user agent's address-of-record → contact binding as the gateway exports it: the same
/// `ServiceRecord` that goes under the UA's type key goes under `sip/<AoR>` too, so any leader
/// can answer a redirect for an AoR with one DHT lookup, also when its policy keeps the UA's
/// service type off its link.
public enum SIPBinding {
    /// The AoR a SIP-typed record announces (draft-lee-sip-dns-sd-uri-03 or plain `_sip`),
    /// read as on the UA's own island: the SRV host is the original `<hostLabel>.local`.
    public static func addressOfRecord(of record: ServiceRecord) -> SIPAddressOfRecord? {
        guard SIPAnnouncement.isSIPServiceType(record.type) else { return nil }
        return try? SIPAnnouncement(service: instance(of: record)).addressOfRecord
    }

    /// The record as the service instance its island sees.
    public static func instance(of record: ServiceRecord) -> ServiceInstance {
        let host = (try? HostName("\(record.hostLabel).local")) ?? .local
        return ServiceInstance(name: record.name, type: record.type, host: host, port: record.port, txt: record.txt,
                               subtypes: record.subtypes, addresses: record.addresses)
    }
}
