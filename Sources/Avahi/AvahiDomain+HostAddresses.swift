import CAvahi
import DNSSD
import LocalDomain

/// Host watches: two record browsers (A and AAAA) on the host name a service resolved to,
/// on the interface it resolved on, as `BrowseTable` asks for them. What they see goes
/// back to the table (`HostAddressTable`), which merges it into the service's addresses.
/// Runs on Avahi's thread with the poll lock held.
extension AvahiDomain {
    static let hostRecordTypes = [UInt16(AVAHI_DNS_TYPE_A), UInt16(AVAHI_DNS_TYPE_AAAA)]

    func startHostWatch(_ watch: HostWatch) {
        guard client != nil, hostWatchers[watch] == nil else { return }
        var browsers: [OpaquePointer] = []
        for type in Self.hostRecordTypes {
            // Both protocols: a dual-stack link carries each record in IPv4 and IPv6 packets.
            do throws(PublishError) {
                let browser = try newObject { client in
                    avahi_record_browser_new(
                        client, watch.interface, AvahiProtocol(AVAHI_PROTO_UNSPEC), watch.host, UInt16(AVAHI_DNS_CLASS_IN),
                        type, AvahiLookupFlags(0), AvahiCallbacks.recordBrowser, AvahiCallbacks.context(of: self))
                }
                browsers.append(browser)
                hostWatchKeys[browser] = watch
            } catch {
                logger.warning("host address browser failed", metadata: ["host": "\(watch.host)", "reason": "\(error)"])
            }
        }
        hostWatchers[watch] = browsers
    }

    func stopHostWatch(_ watch: HostWatch) {
        for browser in hostWatchers.removeValue(forKey: watch) ?? [] {
            hostWatchKeys[browser] = nil
            releaseObject(browser)
            avahi_record_browser_free(browser)
        }
    }

    func recordBrowserEvent(_ browser: OpaquePointer, _ protocolValue: AvahiProtocol, _ event: AvahiBrowserEvent,
                            _ rdata: UnsafeRawPointer?, _ size: Int) {
        guard let watch = hostWatchKeys[browser] else { return }
        switch event {
        case AVAHI_BROWSER_NEW, AVAHI_BROWSER_REMOVE:
            // The rdata of A and AAAA records is the address itself (4 or 16 bytes).
            guard let family = AvahiConversions.family(protocolValue), let rdata,
                  let address = try? IPAddress(bytes: Array(UnsafeRawBufferPointer(start: rdata, count: size)))
            else { return }
            perform(browse.hostAddress(watch, address, over: family, added: event == AVAHI_BROWSER_NEW))
        case AVAHI_BROWSER_FAILURE:
            if let owner = clientHolding(browser) {
                logger.warning("host address browser failed", metadata: [
                    "host": "\(watch.host)", "reason": "\(AvahiConversions.errorText(avahi_client_errno(owner)))",
                ])
            }
        default:
            break
        }
    }
}
