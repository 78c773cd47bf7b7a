import CAvahi
import DNSSD
import LocalDomain
import Logging

/// The local link as seen through avahi-daemon, over libavahi-client.
///
/// This is the one type that touches Avahi's C API: every pointer lives and dies here, and
/// callbacks become `LocalDomainEvent`s. Avahi runs on its own thread
/// (`avahi_threaded_poll`); callbacks run on it with the poll lock held, and every call
/// from another thread takes that lock first. All mutable state below is guarded by it —
/// hence `@unchecked Sendable`.
///
/// Behaviour worth knowing:
/// - The client is created with `AVAHI_CLIENT_NO_FAIL`, so a daemon that is not running yet
///   is waited for. When the daemon (or D-Bus) goes away the client fails; everything that
///   hung off it is freed, a new client is made, and on reconnect every publication is
///   announced again. Browsing resumes too; services not seen again within `resyncGrace`
///   are reported removed (services that survived the restart do not flap).
/// - Decisions live in two pure tables: `BrowseTable` (which resolvers run, what to report)
///   and `PublicationTable` (ids, renames, shared synthesized hosts).
/// - Publications use one entry group each; a synthesized host gets its own group holding
///   its address records (no reverse PTR), shared by the publications that point to it.
/// - TXT records are published with `AVAHI_PUBLISH_NO_COOKIE` so they stay byte for byte.
public final class AvahiDomain: LocalDomain, @unchecked Sendable {
    public struct Options: Sendable {
        public var scope: BrowseScope
        /// After a reconnect, how long to wait for services to be seen again before
        /// reporting the missing ones as removed.
        public var resyncGrace: Duration
        /// Delay between attempts to reach D-Bus when it is not there at all.
        public var retryDelay: Duration

        public init(scope: BrowseScope = .allTypes, resyncGrace: Duration = .seconds(5), retryDelay: Duration = .seconds(1)) {
            self.scope = scope
            self.resyncGrace = resyncGrace
            self.retryDelay = retryDelay
        }
    }

    private enum GroupOwner: Hashable {
        case service(PublicationID)
        case host(String)
    }

    public let events: AsyncStream<LocalDomainEvent>
    private let continuation: AsyncStream<LocalDomainEvent>.Continuation
    private let options: Options
    private let logger: Logger
    private let poll: OpaquePointer

    // Guarded by the poll lock.
    private var client: OpaquePointer?
    private var running = false
    /// The daemon said it is registering its host name (S_REGISTERING or S_COLLISION) since
    /// it last ran: our groups are reset until it runs again.
    private var registering = false
    private var isShutDown = false
    private var typeBrowser: OpaquePointer?
    private var serviceBrowsers: [ServiceType: OpaquePointer] = [:]
    private var browserTypes: [OpaquePointer: ServiceType] = [:]
    private var browsersAwaitingAllForNow: Set<ServiceType> = []
    private var typeBrowserAllForNow = false
    private var settledReported = false
    private var ignoredTypes: Set<String> = []
    private var resolvers: [ResolverKey: OpaquePointer] = [:]
    private var resolverKeys: [OpaquePointer: ResolverKey] = [:]
    private var browse = BrowseTable()
    private var publications = PublicationTable()
    private var serviceGroups: [PublicationID: OpaquePointer] = [:]
    private var hostGroups: [String: OpaquePointer] = [:]
    private var groupOwners: [OpaquePointer: GroupOwner] = [:]
    private var reconnectTimer: OpaquePointer?
    private var resyncTimer: OpaquePointer?
    private var awaitingResync = false

    /// Starts Avahi's thread and connects (or waits for the daemon) in the background.
    public init(options: Options = Options(), logger: Logger = Logger(label: "z2z.avahi")) throws(AvahiError) {
        guard let poll = avahi_threaded_poll_new() else { throw .pollUnavailable }
        self.poll = poll
        self.options = options
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: LocalDomainEvent.self)
        if let api = avahi_threaded_poll_get(poll), let timeoutNew = api.pointee.timeout_new {
            let context = Unmanaged.passUnretained(self).toOpaque()
            reconnectTimer = timeoutNew(api, nil, Self.reconnectCallback, context)
            resyncTimer = timeoutNew(api, nil, Self.resyncCallback, context)
        }
        connect()
        guard avahi_threaded_poll_start(poll) >= 0 else {
            freeClient()
            avahi_threaded_poll_free(poll)
            throw .pollUnavailable
        }
    }

    deinit {
        avahi_threaded_poll_stop(poll)
        freeClient()
        if let api = avahi_threaded_poll_get(poll), let timeoutFree = api.pointee.timeout_free {
            for timer in [reconnectTimer, resyncTimer].compactMap({ $0 }) { timeoutFree(timer) }
        }
        avahi_threaded_poll_free(poll)
        continuation.finish()
    }

    // MARK: - LocalDomain

    public func publish(_ publication: Publication) async throws(PublishError) -> PublicationID {
        try locked { () throws(PublishError) -> PublicationID in
            guard !isShutDown else { throw .shutDown }
            let (id, newHost) = try publications.add(publication)
            guard running, let client else {
                continuation.yield(.publication(id, .waiting))
                return id
            }
            do throws(PublishError) {
                if let newHost { try announceHost(newHost, client: client) }
                try announceService(id, client: client)
            } catch {
                // Nothing half-published: drop what was added for this publication.
                withdrawLocked(id)
                throw error
            }
            return id
        }
    }

    public func update(_ id: PublicationID, to publication: Publication) async throws(PublishError) {
        try locked { () throws(PublishError) in
            guard !isShutDown else { throw .shutDown }
            let (kind, newHost, releasedHost) = try publications.update(id, to: publication)
            if let releasedHost { withdrawHost(releasedHost) }
            guard running, let client else { return }
            if let newHost { try announceHost(newHost, client: client) }
            switch kind {
            case .txtOnly:
                guard let group = serviceGroups[id], let entry = publications.entries[id] else { return }
                let publication = entry.publication
                switch publication.announcement {
                case .probed:
                    let list = AvahiConversions.stringList(publication.txt)
                    defer { avahi_string_list_free(list) }
                    try check(avahi_entry_group_update_service_txt_strlst(
                        group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AVAHI_PUBLISH_NO_COOKIE,
                        entry.name.value, publication.type.description, publication.domain.value, list))
                case .immediate:
                    let name = RawRecord.presentation([entry.name.value, "_\(publication.type.name)",
                                                       "_\(publication.type.transport.rawValue)"]
                                                      + publication.domain.labels.map(String.init))
                    let record = RawRecord(name: name, type: RawRecord.typeTXT, ttl: RawRecord.defaultTTL, unique: true,
                                           rdata: publication.txt.wireFormat)
                    try add([record], to: group, update: true)
                }
            case .reregister:
                try announceService(id, client: client)
            }
        }
    }

    public func withdraw(_ id: PublicationID) async {
        locked { withdrawLocked(id) }
    }

    public func shutdown() async {
        let wasShutDown = locked { () -> Bool in
            defer { isShutDown = true }
            guard !isShutDown else { return true }
            // Free the groups first so avahi-daemon sends goodbyes for each of them.
            for id in publications.entries.keys.sorted() { withdrawLocked(id) }
            freeClient()
            disarm(.reconnect)
            disarm(.resync)
            return false
        }
        if !wasShutDown { continuation.finish() }
    }

    /// Current view of the link (for status displays).
    public var services: [DiscoveredService] { locked { browse.services } }

    // MARK: - Connection

    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        avahi_threaded_poll_lock(poll)
        defer { avahi_threaded_poll_unlock(poll) }
        return try body()
    }

    /// Creates the client. Called at start, and on Avahi's thread after a failure.
    private func connect() {
        guard !isShutDown else { return }
        var error: Int32 = 0
        let created = avahi_client_new(avahi_threaded_poll_get(poll), AVAHI_CLIENT_NO_FAIL,
                                       Self.clientCallback, Unmanaged.passUnretained(self).toOpaque(), &error)
        guard let created else {
            let reason = AvahiConversions.errorText(error)
            logger.warning("cannot reach avahi-daemon over D-Bus, retrying", metadata: ["reason": "\(reason)"])
            continuation.yield(.connection(.unavailable(reason)))
            arm(.reconnect, after: options.retryDelay)
            return
        }
        client = created
    }

    private static let clientCallback: AvahiClientCallback = { client, state, userdata in
        guard let client, let userdata else { return }
        Unmanaged<AvahiDomain>.fromOpaque(userdata).takeUnretainedValue().clientChanged(client, state)
    }

    private func clientChanged(_ newClient: OpaquePointer, _ state: AvahiClientState) {
        // The first call comes from inside avahi_client_new, before it has returned.
        if client == nil { client = newClient }
        guard client == newClient, !isShutDown else { return }
        switch state {
        case AVAHI_CLIENT_S_RUNNING:
            guard !running else {
                if registering { publishAgainAfterRegistering(newClient) }
                return
            }
            running = true
            registering = false
            let version = AvahiConversions.text(avahi_client_get_version_string(newClient))
            logger.info("connected to avahi-daemon", metadata: ["version": "\(version)"])
            continuation.yield(.connection(.running))
            startBrowsing(newClient)
            publishEverything(newClient)
            if awaitingResync { arm(.resync, after: options.resyncGrace) }
        case AVAHI_CLIENT_S_COLLISION, AVAHI_CLIENT_S_REGISTERING:
            // The daemon is (re)establishing its own host name (a collision, a new name, an
            // interface back after a link went down): entry groups must wait, and are
            // committed again once it runs (`publishAgainAfterRegistering`).
            if !registering, !publications.entries.isEmpty || !publications.hosts.isEmpty {
                logger.info("avahi-daemon is registering its host name; publications wait", metadata: [
                    "state": "\(state == AVAHI_CLIENT_S_COLLISION ? "collision" : "registering")",
                    "publications": "\(publications.entries.count)",
                ])
            }
            registering = true
            for group in Array(groupOwners.keys) { avahi_entry_group_reset(group) }
            for id in publications.entries.keys.sorted() { continuation.yield(.publication(id, .waiting)) }
        case AVAHI_CLIENT_CONNECTING:
            continuation.yield(.connection(.connecting("waiting for avahi-daemon")))
        case AVAHI_CLIENT_FAILURE:
            let reason = AvahiConversions.errorText(avahi_client_errno(newClient))
            logger.warning("lost avahi-daemon, reconnecting", metadata: ["reason": "\(reason)"])
            continuation.yield(.connection(.connecting(reason)))
            // Freeing the client inside its own callback is unsafe: do it from a timer.
            arm(.reconnect, after: .zero)
            for id in publications.entries.keys.sorted() { continuation.yield(.publication(id, .waiting)) }
        default:
            break
        }
    }

    /// The daemon runs again after registering its host name: every group was reset, so
    /// every host and service is committed again (services on this host now carry its
    /// current name). Without this a link that went down and came back could leave the
    /// gateway believing in publications avahi-daemon no longer announced.
    private func publishAgainAfterRegistering(_ client: OpaquePointer) {
        registering = false
        logger.info("avahi-daemon runs again; publishing again", metadata: [
            "hosts": "\(publications.hosts.count)", "publications": "\(publications.entries.count)",
        ])
        publishEverything(client)
    }

    /// Commits every host and service we publish (on a new client, or after the daemon reset
    /// our groups).
    private func publishEverything(_ client: OpaquePointer) {
        for key in publications.hosts.keys.sorted() {
            do throws(PublishError) { try announceHost(key, client: client) } catch {
                logger.warning("cannot announce host", metadata: ["host": "\(key)", "reason": "\(error)"])
            }
        }
        for id in publications.entries.keys.sorted() { reannounce(id, client: client) }
    }

    /// Frees the client and everything that hung off it; keeps what must be restored.
    private func freeClient() {
        if let client { avahi_client_free(client) } // frees browsers, resolvers and groups too
        client = nil
        running = false
        registering = false
        typeBrowser = nil
        serviceBrowsers = [:]
        browserTypes = [:]
        browsersAwaitingAllForNow = []
        typeBrowserAllForNow = false
        resolvers = [:]
        resolverKeys = [:]
        serviceGroups = [:]
        hostGroups = [:]
        groupOwners = [:]
        browse.disconnected()
        awaitingResync = true
        disarm(.resync)
    }

    private func finishResync() {
        awaitingResync = false
        perform(browse.sweepStale())
    }

    // MARK: - Browsing

    private func startBrowsing(_ client: OpaquePointer) {
        settledReported = false
        switch options.scope {
        case .nothing:
            typeBrowserAllForNow = true
            reportSettledIfDone()
        case .types(let types):
            typeBrowserAllForNow = true
            for type in types { openServiceBrowser(type, client: client) }
            reportSettledIfDone()
        case .allTypes:
            typeBrowser = avahi_service_type_browser_new(
                client, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), nil, AvahiLookupFlags(0),
                Self.typeBrowserCallback, Unmanaged.passUnretained(self).toOpaque())
            if typeBrowser == nil { logFailure("service type browser", client) }
        }
    }

    private static let typeBrowserCallback: AvahiServiceTypeBrowserCallback = {
        _, interface, protocolValue, event, type, _, _, userdata in
        guard let userdata else { return }
        Unmanaged<AvahiDomain>.fromOpaque(userdata).takeUnretainedValue()
            .typeBrowserEvent(interface, protocolValue, event, type)
    }

    private func typeBrowserEvent(_ interface: AvahiIfIndex, _ protocolValue: AvahiProtocol,
                                  _ event: AvahiBrowserEvent, _ typeText: UnsafePointer<CChar>?) {
        switch event {
        case AVAHI_BROWSER_NEW, AVAHI_BROWSER_REMOVE:
            let raw = AvahiConversions.text(typeText)
            guard let family = AvahiConversions.family(protocolValue) else { return }
            let type: ServiceType
            do { type = try ServiceType(raw) } catch {
                if event == AVAHI_BROWSER_NEW, ignoredTypes.insert(raw).inserted {
                    logger.info("ignoring service type", metadata: ["type": "\(raw)", "reason": "\(error.reason)"])
                    continuation.yield(.ignored(name: "", type: raw, reason: error))
                }
                return
            }
            let sighting = Sighting(interface: interface, family: family)
            if event == AVAHI_BROWSER_NEW {
                if let client { openServiceBrowser(type, client: client) }
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

    private func openServiceBrowser(_ type: ServiceType, client: OpaquePointer) {
        guard serviceBrowsers[type] == nil else { return }
        guard let browser = avahi_service_browser_new(
            client, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), type.description, nil,
            AvahiLookupFlags(0), Self.serviceBrowserCallback, Unmanaged.passUnretained(self).toOpaque())
        else {
            logFailure("service browser for \(type)", client)
            return
        }
        serviceBrowsers[type] = browser
        browserTypes[browser] = type
        browsersAwaitingAllForNow.insert(type)
    }

    private static let serviceBrowserCallback: AvahiServiceBrowserCallback = {
        browser, interface, protocolValue, event, name, type, domain, flags, userdata in
        guard let browser, let userdata else { return }
        Unmanaged<AvahiDomain>.fromOpaque(userdata).takeUnretainedValue()
            .serviceBrowserEvent(browser, interface, protocolValue, event, name, domain, flags)
    }

    private func serviceBrowserEvent(_ browser: OpaquePointer, _ interface: AvahiIfIndex, _ protocolValue: AvahiProtocol,
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
            let sighting = Sighting(interface: interface, family: family)
            if event == AVAHI_BROWSER_NEW {
                var origin: Origin = []
                if flags.rawValue & AVAHI_LOOKUP_RESULT_LOCAL.rawValue != 0 { origin.insert(.local) }
                if flags.rawValue & AVAHI_LOOKUP_RESULT_OUR_OWN.rawValue != 0 { origin.insert(.ourOwn) }
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

    private func perform(_ effects: [BrowseTable.Effect]) {
        for effect in effects {
            switch effect {
            case .emit(let event):
                continuation.yield(event)
            case .startResolver(let key):
                startResolver(key)
            case .stopResolver(let key):
                if let resolver = resolvers.removeValue(forKey: key) {
                    resolverKeys[resolver] = nil
                    avahi_service_resolver_free(resolver)
                }
            }
        }
        reportSettledIfDone()
    }

    private func startResolver(_ key: ResolverKey) {
        guard let client, resolvers[key] == nil else { return }
        guard let resolver = avahi_service_resolver_new(
            client, key.sighting.interface, AvahiConversions.protocolValue(key.sighting.family),
            key.id.name.value, key.id.type.description, key.id.domain.value,
            AvahiConversions.protocolValue(key.family), AvahiLookupFlags(0),
            Self.resolverCallback, Unmanaged.passUnretained(self).toOpaque())
        else {
            logFailure("resolver for \(key.id)", client)
            perform(browse.resolveFailed(key))
            return
        }
        resolvers[key] = resolver
        resolverKeys[resolver] = key
    }

    private static let resolverCallback: AvahiServiceResolverCallback = {
        resolver, _, _, event, _, _, _, host, address, port, txt, _, userdata in
        guard let resolver, let userdata else { return }
        Unmanaged<AvahiDomain>.fromOpaque(userdata).takeUnretainedValue()
            .resolverEvent(resolver, event, host, address, port, txt)
    }

    private func resolverEvent(_ resolver: OpaquePointer, _ event: AvahiResolverEvent, _ hostText: UnsafePointer<CChar>?,
                               _ address: UnsafePointer<AvahiAddress>?, _ port: UInt16,
                               _ txt: UnsafeMutablePointer<AvahiStringList>?) {
        guard let key = resolverKeys[resolver] else { return }
        guard event == AVAHI_RESOLVER_FOUND else {
            // A family without records times out; the resolver keeps watching, so keep it.
            perform(browse.resolveFailed(key))
            return
        }
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

    // MARK: - Publishing

    /// Announces a synthesized host's address records in a group of their own.
    private func announceHost(_ key: String, client: OpaquePointer) throws(PublishError) {
        guard let host = publications.hosts[key] else { return }
        if let old = hostGroups.removeValue(forKey: key) {
            groupOwners[old] = nil
            avahi_entry_group_free(old)
        }
        let group = try newGroup(client, owner: .host(key))
        do throws(PublishError) {
            switch host.announcement {
            case .probed:
                for address in host.addresses {
                    var value = AvahiConversions.avahiAddress(address)
                    try check(avahi_entry_group_add_address(
                        group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AVAHI_PUBLISH_NO_REVERSE,
                        host.announced.value, &value))
                }
            case .immediate:
                try add(RawRecord.addresses(of: host.announced, host.addresses), to: group)
            }
        } catch {
            discardGroup(group)
            throw error
        }
        try commit(group)
        hostGroups[key] = group
    }

    /// (Re)builds and commits the service group of a publication under its current name.
    private func announceService(_ id: PublicationID, client: OpaquePointer) throws(PublishError) {
        guard let entry = publications.entries[id] else { throw .unknownPublication(id) }
        let group: OpaquePointer
        if let existing = serviceGroups[id] {
            avahi_entry_group_reset(existing)
            group = existing
        } else {
            group = try newGroup(client, owner: .service(id))
        }
        let publication = entry.publication
        let host = publications.target(of: id)
        do throws(PublishError) {
            switch publication.announcement {
            case .probed:
                let list = AvahiConversions.stringList(publication.txt)
                defer { avahi_string_list_free(list) }
                try check(avahi_entry_group_add_service_strlst(
                    group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AVAHI_PUBLISH_NO_COOKIE,
                    entry.name.value, publication.type.description, publication.domain.value, host?.value,
                    publication.port, list))
                for subtype in publication.subtypes {
                    try check(avahi_entry_group_add_service_subtype(
                        group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0),
                        entry.name.value, publication.type.description, publication.domain.value,
                        subtype.fullName(of: publication.type)))
                }
            case .immediate:
                guard let target = host ?? thisHostName(client) else {
                    throw .refused(code: -1, message: "this host's name is not known yet")
                }
                try add(RawRecord.service(name: entry.name, type: publication.type, subtypes: publication.subtypes,
                                          domain: publication.domain, port: publication.port, txt: publication.txt,
                                          target: target), to: group)
            }
        } catch {
            serviceGroups[id] = nil
            discardGroup(group)
            throw error
        }
        serviceGroups[id] = group
        do throws(PublishError) { try commit(group) } catch {
            serviceGroups[id] = nil
            discardGroup(group)
            throw error
        }
        continuation.yield(.publication(id, .registering(entry.name)))
    }

    /// Re-announces after a reconnect or a collision; failures become events, not throws.
    private func reannounce(_ id: PublicationID, client: OpaquePointer) {
        do throws(PublishError) { try announceService(id, client: client) } catch {
            logger.warning("publication refused", metadata: ["publication": "\(id)", "reason": "\(error)"])
            continuation.yield(.publication(id, .failed(error.description)))
            withdrawLocked(id)
        }
    }

    /// Adds raw records to a group; unique ones skip probing (see `RawRecord`).
    private func add(_ records: [RawRecord], to group: OpaquePointer, update: Bool = false) throws(PublishError) {
        for record in records {
            var flags = record.unique ? AVAHI_PUBLISH_UNIQUE.rawValue | AVAHI_PUBLISH_NO_PROBE.rawValue : 0
            if update { flags |= AVAHI_PUBLISH_UPDATE.rawValue }
            try check(record.rdata.withUnsafeBytes { rdata in
                avahi_entry_group_add_record(
                    group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(flags),
                    record.name, UInt16(AVAHI_DNS_CLASS_IN), record.type, record.ttl, rdata.baseAddress, rdata.count)
            })
        }
    }

    private func check(_ result: Int32) throws(PublishError) {
        guard result >= 0 else { throw .refused(code: result, message: AvahiConversions.errorText(result)) }
    }

    /// This host's own name as avahi-daemon announces it (`myhost.local`).
    private func thisHostName(_ client: OpaquePointer) -> HostName? {
        try? HostName(AvahiConversions.text(avahi_client_get_host_name_fqdn(client)))
    }

    private func newGroup(_ client: OpaquePointer, owner: GroupOwner) throws(PublishError) -> OpaquePointer {
        guard let group = avahi_entry_group_new(client, Self.groupCallback, Unmanaged.passUnretained(self).toOpaque())
        else {
            let code = avahi_client_errno(client)
            throw .refused(code: code, message: AvahiConversions.errorText(code))
        }
        groupOwners[group] = owner
        return group
    }

    private func commit(_ group: OpaquePointer) throws(PublishError) {
        try check(avahi_entry_group_commit(group))
    }

    private func discardGroup(_ group: OpaquePointer) {
        groupOwners[group] = nil
        avahi_entry_group_free(group)
    }

    private static let groupCallback: AvahiEntryGroupCallback = { group, state, userdata in
        guard let group, let userdata else { return }
        Unmanaged<AvahiDomain>.fromOpaque(userdata).takeUnretainedValue().groupChanged(group, state)
    }

    private func groupChanged(_ group: OpaquePointer, _ state: AvahiEntryGroupState) {
        guard let owner = groupOwners[group], let client else { return }
        switch (owner, state) {
        case (.service(let id), AVAHI_ENTRY_GROUP_ESTABLISHED):
            if let name = publications.entries[id]?.name {
                logger.debug("published", metadata: ["publication": "\(id)", "name": "\(name)"])
                continuation.yield(.publication(id, .established(name)))
            }
        case (.service(let id), AVAHI_ENTRY_GROUP_COLLISION):
            guard let old = publications.entries[id]?.name, let new = publications.nameCollided(id) else { return }
            logger.info("name collision, renaming", metadata: ["from": "\(old)", "to": "\(new)"])
            continuation.yield(.publication(id, .renamed(from: old, to: new)))
            reannounce(id, client: client)
        case (.host(let key), AVAHI_ENTRY_GROUP_COLLISION):
            guard let (announced, users) = publications.hostCollided(key) else { return }
            logger.info("host name collision, renaming host", metadata: ["host": "\(announced)"])
            do throws(PublishError) { try announceHost(key, client: client) } catch {
                logger.warning("cannot announce renamed host", metadata: ["host": "\(announced)", "reason": "\(error)"])
            }
            for id in users { reannounce(id, client: client) }
        case (.service(let id), AVAHI_ENTRY_GROUP_FAILURE):
            let reason = AvahiConversions.errorText(avahi_client_errno(client))
            continuation.yield(.publication(id, .failed(reason)))
            withdrawLocked(id)
        case (.host(let key), AVAHI_ENTRY_GROUP_FAILURE):
            logger.warning("host records failed", metadata: ["host": "\(key)",
                           "reason": "\(AvahiConversions.errorText(avahi_client_errno(client)))"])
        default:
            break
        }
    }

    private func withdrawLocked(_ id: PublicationID) {
        if let group = serviceGroups.removeValue(forKey: id) { discardGroup(group) }
        guard let (_, releasedHost) = publications.remove(id) else { return }
        if let releasedHost { withdrawHost(releasedHost) }
    }

    private func withdrawHost(_ key: String) {
        if let group = hostGroups.removeValue(forKey: key) { discardGroup(group) }
    }

    // MARK: - Timers and logging

    /// One-shot timers on Avahi's thread, created disarmed at start and re-armed as needed.
    private enum Timer { case reconnect, resync }

    private func arm(_ timer: Timer, after delay: Duration) {
        guard let api = avahi_threaded_poll_get(poll), let update = api.pointee.timeout_update,
              let timeout = timer == .reconnect ? reconnectTimer : resyncTimer else { return }
        var when = timeval()
        let milliseconds = delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000
        avahi_elapse_time(&when, UInt32(clamping: milliseconds), 0)
        update(timeout, &when)
    }

    private func disarm(_ timer: Timer) {
        guard let api = avahi_threaded_poll_get(poll), let update = api.pointee.timeout_update,
              let timeout = timer == .reconnect ? reconnectTimer : resyncTimer else { return }
        update(timeout, nil)
    }

    private static let reconnectCallback: AvahiTimeoutCallback = { _, userdata in
        guard let userdata else { return }
        let domain = Unmanaged<AvahiDomain>.fromOpaque(userdata).takeUnretainedValue()
        domain.freeClient()
        domain.connect()
    }

    private static let resyncCallback: AvahiTimeoutCallback = { _, userdata in
        guard let userdata else { return }
        Unmanaged<AvahiDomain>.fromOpaque(userdata).takeUnretainedValue().finishResync()
    }

    private func logFailure(_ what: String, _ client: OpaquePointer) {
        logger.warning("\(what) failed", metadata: ["reason": "\(AvahiConversions.errorText(avahi_client_errno(client)))"])
    }
}

/// Why an `AvahiDomain` could not start at all (the daemon being absent is not one: it is waited for).
public enum AvahiError: Error, Hashable, Sendable, CustomStringConvertible {
    case pollUnavailable

    public var description: String {
        switch self {
        case .pollUnavailable: "cannot start Avahi's event thread"
        }
    }
}
