import DNSSD

/// Devices' services for simulated islands: common DNS-SD types, names that are mostly the
/// island's own and sometimes shared with other islands ("Printer" is on many links, and
/// importers must rename all but one), one routable address per device host.
struct ServiceCatalogue {
    static let typeNames = [
        "_ipp._tcp", "_ipps._tcp", "_printer._tcp", "_pdl-datastream._tcp", "_scanner._tcp", "_uscan._tcp",
        "_http._tcp", "_https._tcp", "_ssh._tcp", "_sftp-ssh._tcp", "_smb._tcp", "_afpovertcp._tcp", "_nfs._tcp",
        "_webdav._tcp", "_ftp._tcp", "_rfb._tcp", "_airplay._tcp", "_raop._tcp", "_googlecast._tcp",
        "_spotify-connect._tcp", "_daap._tcp", "_dacp._tcp", "_hap._tcp", "_matter._tcp", "_mqtt._tcp", "_coap._udp",
        "_workstation._tcp", "_device-info._tcp", "_companion-link._tcp", "_xmpp-client._tcp", "_rdp._tcp",
        "_home-assistant._tcp", "_octoprint._tcp", "_esphomelib._tcp", "_sonos._tcp", "_amzn-wplay._tcp",
        "_teamviewer._tcp", "_adisk._tcp", "_sleep-proxy._udp", "_apple-mobdev2._tcp",
    ]
    static let sharedNames = ["Printer", "Office Printer", "NAS", "Living Room", "Kitchen", "Scanner", "Camera", "Media Server"]

    let types: [ServiceType]

    init(types count: Int) {
        precondition((1...Self.typeNames.count).contains(count), "1 to \(Self.typeNames.count) service types")
        types = Self.typeNames.prefix(count).map { try! ServiceType($0) }
    }

    /// Service `number` of `island`: one in five has a shared name, unless `unique`.
    func service(island: Int, number: Int, type: Int, unique: Bool = false) -> ServiceInstance {
        let shared = !unique && (island * 31 + number * 7) % 5 == 0
        let name = shared ? Self.sharedNames[(island + number) % Self.sharedNames.count] : "island-\(island) device \(number)"
        precondition(island < 1 << 16 && number < 64, "addresses: 65,536 islands of 64 devices")
        return ServiceInstance(
            name: try! InstanceName(name), type: types[type], host: try! HostName("dev-\(island)-\(number).local"),
            port: UInt16(8000 + number), txt: txt(island: island, number: number, version: 1),
            addresses: [.v4(0x6440_0000 | UInt32(island) << 6 | UInt32(number))])
    }

    func txt(island: Int, number: Int, version: Int) -> TXTRecord {
        try! TXTRecord(["path": "/", "id": "\(island).\(number)", "v": "\(version)"])
    }
}
