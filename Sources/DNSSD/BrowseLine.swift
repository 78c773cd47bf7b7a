/// One line of `avahi-browse -p` output, in its field order:
/// `+;eth0;IPv4;Name;_ipp._tcp;local` (new), `-;...` (removed) and
/// `=;eth0;IPv4;Name;_ipp._tcp;local;host.local;10.0.0.5;631;"k=v"` (resolved).
public struct BrowseLine: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Character, Sendable { case added = "+", removed = "-", resolved = "=" }

    /// What a resolved line adds to the browse fields.
    public struct Resolution: Hashable, Sendable {
        public var host: HostName
        public var address: IPAddress
        public var port: UInt16
        public var txt: TXTRecord

        public init(host: HostName, address: IPAddress, port: UInt16, txt: TXTRecord) {
            self.host = host
            self.address = address
            self.port = port
            self.txt = txt
        }
    }

    public var kind: Kind
    public var interface: String
    /// `IPv4` or `IPv6`: the protocol the record was seen over.
    public var protocolName: String
    public var id: ServiceID
    public var resolution: Resolution?

    public init(kind: Kind, interface: String, protocolName: String, id: ServiceID, resolution: Resolution? = nil) {
        self.kind = kind
        self.interface = interface
        self.protocolName = protocolName
        self.id = id
        self.resolution = resolution
    }

    public var description: String {
        var fields = [String(kind.rawValue), interface, protocolName,
                      AvahiEscaping.escapeLabel(id.name.value), id.type.description, id.domain.value]
        if let resolution {
            fields += [resolution.host.value, resolution.address.description, String(resolution.port),
                       AvahiEscaping.quoteTXT(resolution.txt)]
        }
        return fields.joined(separator: ";")
    }

    /// Parses a line; the TXT field (last) may itself contain `;`.
    public init(parsing line: String) throws(DNSSDError) {
        let fields = line.split(separator: ";", maxSplits: 9, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 6 || fields.count == 10, let tag = fields[0].first, fields[0].count == 1,
              let kind = Kind(rawValue: tag), (kind == .resolved) == (fields.count == 10)
        else { throw .parsableLineMalformed(line) }
        let name = try InstanceName(bytes: AvahiEscaping.unescapeLabel(fields[3]))
        let id = ServiceID(name: name, type: try ServiceType(fields[4]), domain: try DomainName(fields[5]))
        var resolution: Resolution?
        if kind == .resolved {
            // avahi prints the port with %u: digits only, so "+631" or " 631" did not come from it.
            guard fields[8].utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let port = UInt16(fields[8])
            else { throw .parsableLineMalformed(line) }
            let strings = try AvahiEscaping.unquoteTXT(fields[9])
            var entries: [TXTEntry] = []
            for (index, string) in strings.enumerated() {
                entries.append(try TXTEntry(string: string, index: index))
            }
            resolution = Resolution(host: try HostName(fields[6]), address: try IPAddress(fields[7]),
                                    port: port, txt: try TXTRecord(entries: entries))
        }
        self.init(kind: kind, interface: fields[1], protocolName: fields[2], id: id, resolution: resolution)
    }
}
