// libFuzzer entry for the DNS-SD codecs: TXT records (DNS wire format and avahi's quoted
// text), instance names, service types and subtypes, host names, IP addresses, avahi's
// label escaping and `avahi-browse -p` lines. Built by Deploy/fuzz together with
// Sources/DNSSD (which imports only libc) as one module, so no `import DNSSD`.
//
// The first byte picks the codec, the rest is its input. Besides "never crash", it checks
// round trips that turn logic bugs into crashes:
// - TXT wire format: what parses re-encodes to bytes that parse to the same record;
// - avahi label escaping: unescape(escape(label)) is the label;
// - quoted TXT: unquote(quote(record)) gives the record's strings back;
// - a parsed browse line prints to a line that parses to the same value.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNSSD(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let selector = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let text = String(decoding: bytes, as: UTF8.self)
    switch selector % 6 {
    case 0:
        if let txt = try? TXTRecord(wireFormat: bytes) {
            let again = try? TXTRecord(wireFormat: txt.wireFormat)
            precondition(again == txt, "TXT wire format does not round-trip")
            precondition(txt.wireSize == txt.wireFormat.count, "wireSize disagrees with wireFormat")
            checkQuoting(txt)
        }
        let (received, _) = TXTRecord.receiving(splitStrings(bytes))
        checkQuoting(received)
    case 1:
        if let name = try? InstanceName(bytes: bytes) {
            precondition(name.value.utf8.count <= InstanceName.maximumBytes, "instance name too long")
            let escaped = AvahiEscaping.escapeLabel(name.value)
            let back = try? AvahiEscaping.unescapeLabel(escaped)
            precondition(back == Array(name.value.utf8), "avahi escaping does not round-trip")
        }
    case 2:
        _ = try? ServiceType(text)
        _ = try? Subtype(text)
        _ = try? DomainName(text)
        _ = try? HostName(text)
        if let type = try? ServiceType(text) {
            precondition((try? ServiceType(type.description)) == type, "service type does not round-trip")
        }
    case 3:
        _ = try? IPAddress(text)
        _ = try? IPAddress(bytes: bytes)
    case 4:
        _ = try? AvahiEscaping.unescapeLabel(text)
        if let strings = try? AvahiEscaping.unquoteTXT(text), let txt = try? TXTRecord(entries: strings.filter { !$0.isEmpty }.enumerated().map { try TXTEntry(string: $0.element, index: $0.offset) }) {
            checkQuoting(txt)
        }
    default:
        if let line = try? BrowseLine(parsing: text) {
            let again = try? BrowseLine(parsing: line.description)
            precondition(again == line, "browse line does not round-trip: \(line.description)")
        }
    }
    return 0
}

/// Length-prefixed strings, leniently (what `TXTRecord.receiving` gets from Avahi).
private func splitStrings(_ bytes: [UInt8]) -> [[UInt8]] {
    var strings: [[UInt8]] = []
    var offset = 0
    while offset < bytes.count {
        let length = min(Int(bytes[offset]), bytes.count - offset - 1)
        strings.append(Array(bytes[(offset + 1)..<(offset + 1 + length)]))
        offset += 1 + length
    }
    return strings
}

private func checkQuoting(_ txt: TXTRecord) {
    let quoted = AvahiEscaping.quoteTXT(txt)
    let back = try? AvahiEscaping.unquoteTXT(quoted)
    precondition(back.map { $0.filter { !$0.isEmpty } } == txt.strings, "quoted TXT does not round-trip: \(quoted)")
}
