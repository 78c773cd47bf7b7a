import CAvahi
import DNSSD
import LocalDomain

/// Browsing and resolving: one type browser (`_services._dns-sd._udp`, for `.allTypes`),
/// a service browser per type it enumerates or the link is heard naming (`typeHeard`, as
/// `BrowsedTypes` decides), resolvers as `BrowseTable` asks for them (IPv4 and IPv6
/// results of one instance merged there), and `.settled` once every browser said "all for
/// now" and no resolution is pending. Runs on Avahi's thread with the poll lock held.
extension AvahiDomain {
    /// Current view of the link (for status displays).
    public var services: [DiscoveredService] { locked { browse.services } }

    // MARK: - Browsing

    func startBrowsing(_ client: OpaquePointer) {
        settledReported = false
        switch options.scope {
        case .nothing:
            typeBrowserAllForNow = true
            reportSettledIfDone()
        case .types(let types):
            typeBrowserAllForNow = true
            for type in types { carryOut(browsedTypes.enumerated(type), client: client) }
            reportSettledIfDone()
        case .allTypes:
            typeBrowser = avahi_service_type_browser_new(
                client, scopedInterface, AvahiProtocol(AVAHI_PROTO_UNSPEC), nil, AvahiLookupFlags(0),
                AvahiCallbacks.typeBrowser, AvahiCallbacks.context(of: self))
            if typeBrowser == nil { logFailure("service type browser", client) }
        }
    }

    func typeBrowserEvent(_ interface: AvahiIfIndex, _ protocolValue: AvahiProtocol,
                                  _ event: AvahiBrowserEvent, _ typeText: UnsafePointer<CChar>?) {
        switch event {
        case AVAHI_BROWSER_NEW, AVAHI_BROWSER_REMOVE:
            let raw = AvahiConversions.text(typeText)
            guard AvahiConversions.family(protocolValue) != nil else { return }
            let type: ServiceType
            do { type = try ServiceType(raw) } catch {
                if event == AVAHI_BROWSER_NEW, ignoredTypes.insert(raw).inserted {
                    logger.info("ignoring service type", metadata: ["type": "\(raw)", "reason": "\(error.reason)"])
                    continuation.yield(.ignored(name: "", type: raw, reason: error))
                }
                return
            }
            if event == AVAHI_BROWSER_NEW {
                if let client { carryOut(browsedTypes.enumerated(type), client: client) }
            } else {
                // The service browser stays open: it reports each instance's removal itself,
                // and the type's enumeration record is no proof that none is left. Responders
                // other than Avahi (python-zeroconf, some printers) answer for their services
                // without announcing the type, so the type can "go" with another responder's
                // last instance while theirs are still there.
            }
        case AVAHI_BROWSER_ALL_FOR_NOW:
            typeBrowserAllForNow = true
            reportSettledIfDone()
        case AVAHI_BROWSER_FAILURE:
            if let client { logFailure("service type browser", client) }
        default:
            break
        }
    }

    /// A type named on the link by a packet (`MDNSTypes`): browsed at once, rather than when
    /// the type browser's next (backed-off) query gets an answer. Called from outside
    /// Avahi's thread.
    public func typeHeard(_ type: ServiceType) {
        locked {
            guard options.scope == .allTypes, running, let client else { return }
            let effects = browsedTypes.heard(type)
            if effects.contains(.openBrowser(type)) {
                logger.info("browsing a type heard on the link before avahi-daemon enumerated it", metadata: ["type": "\(type)"])
            }
            carryOut(effects, client: client)
        }
    }

    private func carryOut(_ effects: [BrowsedTypes.Effect], client: OpaquePointer) {
        for effect in effects {
            switch effect {
            case .openBrowser(let type):
                if !openServiceBrowser(type, client: client) { browsedTypes.browserFailed(type) }
            case .heardLimitReached(let type, let limit):
                // A link naming this many types it never enumerates is unusual (or hostile):
                // further ones wait for avahi-daemon's enumeration, as before.
                logger.warning("too many types heard on the link and not enumerated; not browsing more of them",
                               metadata: ["type": "\(type)", "limit": "\(limit)"])
            }
        }
    }

    /// Opens a service browser for `type` unless one is open; false when avahi-daemon refuses.
    private func openServiceBrowser(_ type: ServiceType, client: OpaquePointer) -> Bool {
        guard serviceBrowsers[type] == nil else { return true }
        guard let browser = avahi_service_browser_new(
            client, scopedInterface, AvahiProtocol(AVAHI_PROTO_UNSPEC), type.description, nil,
            AvahiLookupFlags(0), AvahiCallbacks.serviceBrowser, AvahiCallbacks.context(of: self))
        else {
            logFailure("service browser for \(type)", client)
            return false
        }
        serviceBrowsers[type] = browser
        browserTypes[browser] = type
        browsersAwaitingAllForNow.insert(type)
        return true
    }

    func serviceBrowserEvent(_ browser: OpaquePointer, _ interface: AvahiIfIndex, _ protocolValue: AvahiProtocol,
                                     _ event: AvahiBrowserEvent, _ name: UnsafePointer<CChar>?,
                                     _ domain: UnsafePointer<CChar>?, _ flags: AvahiLookupResultFlags) {
        guard let type = browserTypes[browser] else { return }
        switch event {
        case AVAHI_BROWSER_NEW, AVAHI_BROWSER_REMOVE:
            guard let family = AvahiConversions.family(protocolValue) else { return }
            let id: ServiceID
            do throws(DNSSDError) {
                id = ServiceID(name: try InstanceName(bytes: AvahiConversions.bytes(name)), type: type,
                               domain: try DomainName(AvahiConversions.text(domain)))
            } catch {
                if event == AVAHI_BROWSER_NEW {
                    let raw = AvahiConversions.text(name)
                    logger.info("ignoring service", metadata: ["name": "\(raw)", "type": "\(type)", "reason": "\(error.reason)"])
                    continuation.yield(.ignored(name: raw, type: type.description, reason: error))
                }
                return
            }
            // Ours, from a publishing client (AvahiDomain): imports are not resolved at all.
            let own = publications.entry(named: id)
            if let own, own.publication.host != .thisHost { return }
            let sighting = Sighting(interface: interface, family: family)
            if event == AVAHI_BROWSER_NEW {
                var origin: Origin = []
                if flags.rawValue & AVAHI_LOOKUP_RESULT_LOCAL.rawValue != 0 { origin.insert(.local) }
                if own != nil || flags.rawValue & AVAHI_LOOKUP_RESULT_OUR_OWN.rawValue != 0 { origin.insert(.ourOwn) }
                perform(browse.sightingAdded(id, sighting, origin: origin))
            } else {
                perform(browse.sightingRemoved(id, sighting))
            }
        case AVAHI_BROWSER_ALL_FOR_NOW:
            browsersAwaitingAllForNow.remove(type)
            reportSettledIfDone()
        case AVAHI_BROWSER_FAILURE:
            if let client { logFailure("service browser for \(type)", client) }
            browsersAwaitingAllForNow.remove(type)
            reportSettledIfDone()
        default:
            break
        }
    }

    func perform(_ effects: [BrowseTable.Effect]) {
        for effect in effects {
            switch effect {
            case .emit(let event):
                continuation.yield(event)
            case .startResolver(let key):
                startResolver(key)
            case .stopResolver(let key):
                resolverRetries.forget(key)
                freeResolver(key)
            case .startHostWatch(let watch):
                startHostWatch(watch)
            case .stopHostWatch(let watch):
                stopHostWatch(watch)
            }
        }
        reportSettledIfDone()
    }

    private func startResolver(_ key: ResolverKey) {
        guard client != nil, resolvers[key] == nil else { return }
        let resolver: OpaquePointer
        do throws(PublishError) {
            resolver = try newObject { client in
                avahi_service_resolver_new(
                    client, key.sighting.interface, AvahiConversions.protocolValue(key.sighting.family),
                    key.id.name.value, key.id.type.description, key.id.domain.value,
                    AvahiConversions.protocolValue(key.family), AvahiLookupFlags(0),
                    AvahiCallbacks.resolver, AvahiCallbacks.context(of: self))
            }
        } catch {
            if resolverRetries.attempts(key) == 0 {
                logger.warning("resolver for \(key.id) failed", metadata: ["reason": "\(error)"])
            }
            resolverFailed(key, refused: true)
            return
        }
        resolvers[key] = resolver
        resolverKeys[resolver] = key
    }

    private func freeResolver(_ key: ResolverKey) {
        guard let resolver = resolvers.removeValue(forKey: key) else { return }
        resolverKeys[resolver] = nil
        releaseObject(resolver)
        avahi_service_resolver_free(resolver)
    }

    /// A resolver could not be made or timed out: made again later while its service stays
    /// unresolved on that interface (`ResolverRetries`).
    private func resolverFailed(_ key: ResolverKey, refused: Bool) {
        perform(browse.resolveFailed(key))
        guard browse.needsResolverRetry(key) else {
            resolverRetries.forget(key)
            return
        }
        resolverRetries.failed(key, refused: refused, now: .now)
        arm(.resolverRetry, at: resolverRetries.nextDue)
    }

    /// The retry timer fired: every due resolver that is still wanted is made again.
    func retryResolvers() {
        let now = ContinuousClock.now
        for key in resolverRetries.due(now: now) {
            guard client != nil, browse.needsResolverRetry(key) else {
                resolverRetries.forget(key)
                continue
            }
            logger.debug("making a failed resolver again", metadata: ["service": "\(key.id)", "attempt": "\(resolverRetries.attempts(key) + 1)"])
            resolverRetries.started(key, now: now)
            freeResolver(key)
            startResolver(key)
        }
        arm(.resolverRetry, at: resolverRetries.nextDue)
    }

    func resolverEvent(_ resolver: OpaquePointer, _ event: AvahiResolverEvent, _ hostText: UnsafePointer<CChar>?,
                               _ address: UnsafePointer<AvahiAddress>?, _ port: UInt16,
                               _ txt: UnsafeMutablePointer<AvahiStringList>?) {
        guard let key = resolverKeys[resolver] else { return }
        guard event == AVAHI_RESOLVER_FOUND else {
            // A family without records times out; when no family resolved on this interface,
            // the resolver is made again later (its service would stay unknown otherwise).
            resolverFailed(key, refused: false)
            return
        }
        resolverRetries.forget(key)
        guard let host = try? HostName(AvahiConversions.text(hostText)) else {
            logger.info("ignoring resolution with a bad host name", metadata: ["service": "\(key.id)"])
            return
        }
        let (record, dropped) = TXTRecord.receiving(AvahiConversions.strings(txt))
        for reason in dropped {
            logger.debug("dropped TXT string", metadata: ["service": "\(key.id)", "reason": "\(reason.reason)"])
        }
        let resolution = Resolution(host: host, port: port, txt: record, droppedTXT: dropped,
                                    address: AvahiConversions.address(address))
        perform(browse.resolved(key, resolution))
    }

    private func reportSettledIfDone() {
        guard running, !settledReported, typeBrowserAllForNow, browsersAwaitingAllForNow.isEmpty,
              browse.pendingResolutions == 0 else { return }
        settledReported = true
        continuation.yield(.settled)
        if awaitingResync {
            disarm(.resync)
            finishResync()
        }
    }

    private func logFailure(_ what: String, _ client: OpaquePointer) {
        logger.warning("\(what) failed", metadata: ["reason": "\(AvahiConversions.errorText(avahi_client_errno(client)))"])
    }
}
