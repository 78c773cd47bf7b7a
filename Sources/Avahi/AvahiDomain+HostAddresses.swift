import CAvahi
import DNSSD
import LocalDomain

/// Host watches: two record browsers (A and AAAA) on the host name a service resolved to,
/// on the interface it resolved on, as `BrowseTable` asks for them. What they see goes
/// back to the table (`HostAddressTable`), which merges it into the service's addresses.
///
/// With `.onChange` upkeep a watch's browsers are freed once both said "all for now" (the
/// watch pauses, what it saw stays), and the records heard on the link (`recordsHeard`)
/// say when a paused watch browses again, or a service is resolved again
/// (`RecordRefreshes`). Runs on Avahi's thread with the poll lock held.
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
        pausedHostWatches.remove(watch)
        freeHostWatchBrowsers(watch)
    }

    private func freeHostWatchBrowsers(_ watch: HostWatch) {
        hostWatchesAllForNow[watch] = nil
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
        case AVAHI_BROWSER_ALL_FOR_NOW:
            guard options.upkeep == .onChange, let browsers = hostWatchers[watch] else { return }
            hostWatchesAllForNow[watch, default: []].insert(browser)
            guard Set(browsers).isSubset(of: hostWatchesAllForNow[watch] ?? []) else { return }
            // Freeing a browser inside its own callback is safe: libavahi-client does not touch it after.
            freeHostWatchBrowsers(watch)
            pausedHostWatches.insert(watch)
            perform(browse.hostWatchSettled(watch))
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

// MARK: - `.onChange` upkeep: records heard on the link

extension AvahiDomain {
    /// Records a datagram on the link carried (`MDNSListener`, router mode): with `.onChange`
    /// upkeep, what they show out of date is resolved or watched again a moment later
    /// (`RecordRefreshes`). Ignored otherwise. Called from outside Avahi's thread.
    public func recordsHeard(_ records: [MDNSResponse.Record]) {
        locked {
            guard options.upkeep == .onChange, running, client != nil else { return }
            let now = ContinuousClock.now
            let outdated = records.compactMap { browse.outdated(by: $0) }.filter { target in
                // A host whose watches all browse now sees the record itself.
                guard case .host(let host) = target else { return true }
                return !browse.hostWatches(onHost: host).allSatisfy { hostWatchers[$0] != nil }
            }
            guard !outdated.isEmpty else { return }
            for target in outdated { refreshes.heard(target, now: now) }
            arm(.refresh, at: refreshes.nextDue)
        }
    }

    /// The refresh timer fired: every due service is resolved again, every due host's paused
    /// watches browse again.
    func refreshDue() {
        for target in refreshes.due(now: .now) {
            switch target {
            case .service(let id):
                logger.debug("resolving again: a record heard on the link differs", metadata: ["service": "\(id)"])
                perform(browse.resolveAgain(id))
            case .host(let host):
                for watch in browse.hostWatches(onHost: host) where pausedHostWatches.remove(watch) != nil {
                    logger.debug("watching a host's addresses again: an address record heard on the link differs",
                                 metadata: ["host": "\(host)"])
                    startHostWatch(watch)
                    perform(browse.hostWatchRestarting(watch))
                }
            }
        }
        arm(.refresh, at: refreshes.nextDue)
    }
}
