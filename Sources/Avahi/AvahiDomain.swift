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
/// - Decisions live in pure tables: `BrowsedTypes` (which types get a service browser),
///   `BrowseTable` (which resolvers and host watches run, what to report, with
///   `HostAddressTable`) and `PublicationTable` (ids, renames, shared synthesized hosts).
/// - Publications use one entry group each; a synthesized host gets its own group holding
///   its address records (no reverse PTR), shared by the publications that point to it.
/// - Entry groups, resolvers and host record browsers live on object clients of their
///   own, as many as `ClientPool` says (avahi-daemon limits the objects of one client, 1,024
///   as Debian ships it); the first client only browses types and services. A
///   failure of any client reconnects them all, and every publication is announced again.
///   Avahi flags a browse result OUR_OWN only for the browsing client's own groups, so the
///   wrapper flags its publications itself, and does not resolve those on synthesized
///   hosts (a gateway's imports: it never exports them, and thousands of them would take
///   two resolvers each).
/// - TXT records are published with `AVAHI_PUBLISH_NO_COOKIE` so they stay byte for byte.
///
/// One type in five files, by concept: this one holds the client's lifecycle (connect,
/// reconnect, the daemon registering its host name, shutdown, timers);
/// `AvahiDomain+Browsing.swift` browsing and resolving; `AvahiDomain+HostAddresses.swift`
/// the record browsers on resolved hosts' addresses, and the `.onChange` upkeep of what was
/// resolved (`recordsHeard`); `AvahiDomain+Publishing.swift`
/// publishing (`publish`, `update`, `withdraw`, entry groups); `AvahiCallbacks.swift` the C
/// callbacks that lead back here.
public final class AvahiDomain: LocalDomain, @unchecked Sendable {
    public struct Options: Sendable {
        public var scope: BrowseScope
        /// After a reconnect, how long to wait for services to be seen again before
        /// reporting the missing ones as removed.
        public var resyncGrace: Duration
        /// Delay between attempts to reach D-Bus when it is not there at all.
        public var retryDelay: Duration
        /// One network interface only (router mode, a link each): browse there and publish
        /// there, nowhere else. Nil: every interface, as avahi-daemon sees them.
        public var interface: InterfaceIndex?
        /// Sends a datagram to the mDNS groups of `interface`, one for IPv4 and one for IPv6
        /// (nil: nothing for that family). With it, a publication announced without probing
        /// is announced at once by us as well (see `announceAtOnce`). Called on Avahi's thread.
        public var announcer: (@Sendable (_ ipv4: [UInt8]?, _ ipv6: [UInt8]?) -> Void)?
        /// How resolved services are kept current. `.onChange` needs the link's records fed
        /// to `recordsHeard` (a listener on the link), or changes go unseen.
        public var upkeep: ResolutionUpkeep

        public init(scope: BrowseScope = .allTypes, resyncGrace: Duration = .seconds(5), retryDelay: Duration = .seconds(1),
                    interface: InterfaceIndex? = nil, announcer: (@Sendable (_ ipv4: [UInt8]?, _ ipv6: [UInt8]?) -> Void)? = nil,
                    upkeep: ResolutionUpkeep = .continuous) {
            self.scope = scope
            self.resyncGrace = resyncGrace
            self.retryDelay = retryDelay
            self.interface = interface
            self.announcer = announcer
            self.upkeep = upkeep
        }
    }

    /// The interface every browser and entry of this domain is scoped to (`Options.interface`).
    var scopedInterface: AvahiIfIndex { options.interface.map { AvahiIfIndex($0) } ?? AvahiIfIndex(AVAHI_IF_UNSPEC) }

    public let events: AsyncStream<LocalDomainEvent>
    let continuation: AsyncStream<LocalDomainEvent>.Continuation
    let options: Options
    let logger: Logger
    let poll: OpaquePointer

    // Guarded by the poll lock. Internal rather than private only so that this type's other
    // files reach it (nothing else in the module does); what only the lifecycle changes has
    // a private setter.

    // The client's lifecycle.
    private(set) var client: OpaquePointer?
    private(set) var running = false
    /// A client failed and the reconnect timer is armed: further failures are the same one.
    private var reconnecting = false
    /// The daemon said it is registering its host name (S_REGISTERING or S_COLLISION) since
    /// it last ran: our groups are reset until it runs again.
    private var registering = false
    private(set) var isShutDown = false
    private var reconnectTimer: OpaquePointer?
    private var resyncTimer: OpaquePointer?
    private var resolverRetryTimer: OpaquePointer?
    private var refreshTimer: OpaquePointer?
    private(set) var awaitingResync = false

    // Browsing (`AvahiDomain+Browsing.swift`).
    var typeBrowser: OpaquePointer?
    var serviceBrowsers: [ServiceType: OpaquePointer] = [:]
    var browsedTypes = BrowsedTypes()
    var browserTypes: [OpaquePointer: ServiceType] = [:]
    var browsersAwaitingAllForNow: Set<ServiceType> = []
    var typeBrowserAllForNow = false
    var settledReported = false
    var ignoredTypes: Set<String> = []
    var resolvers: [ResolverKey: OpaquePointer] = [:]
    var resolverKeys: [OpaquePointer: ResolverKey] = [:]
    /// Failed resolvers, made again with backoff while their service stays unresolved.
    var resolverRetries = ResolverRetries()
    var browse: BrowseTable
    /// Record browsers (A, AAAA) per host watch (`AvahiDomain+HostAddresses.swift`).
    var hostWatchers: [HostWatch: [OpaquePointer]] = [:]
    var hostWatchKeys: [OpaquePointer: HostWatch] = [:]
    // `.onChange` upkeep (`AvahiDomain+HostAddresses.swift`): watches whose browsers said
    // "all for now" (freed once all have), and what heard records showed out of date.
    var hostWatchesAllForNow: [HostWatch: Set<OpaquePointer>] = [:]
    var pausedHostWatches: Set<HostWatch> = []
    var refreshes = RecordRefreshes()

    // Publishing (`AvahiDomain+Publishing.swift`).
    var publications = PublicationTable()
    var serviceGroups: [PublicationID: OpaquePointer] = [:]
    var hostGroups: [String: OpaquePointer] = [:]
    var groupOwners: [OpaquePointer: GroupOwner] = [:]
    // Object clients (`AvahiDomain+ObjectClients.swift`): by their index in `pool`, and
    // the index of the client each group, resolver and record browser lives on.
    var objectClients: [OpaquePointer] = []
    var objectClientIndex: [OpaquePointer: Int] = [:]
    var pool = ClientPool()

    /// Starts Avahi's thread and connects (or waits for the daemon) in the background.
    public init(options: Options = Options(), logger: Logger = Logger(label: "z2z.avahi")) throws(AvahiError) {
        guard let poll = avahi_threaded_poll_new() else { throw .pollUnavailable }
        self.poll = poll
        self.options = options
        self.logger = logger
        browse = BrowseTable(upkeep: options.upkeep)
        (events, continuation) = AsyncStream.makeStream(of: LocalDomainEvent.self)
        if let api = avahi_threaded_poll_get(poll), let timeoutNew = api.pointee.timeout_new {
            let context = AvahiCallbacks.context(of: self)
            reconnectTimer = timeoutNew(api, nil, AvahiCallbacks.reconnect, context)
            resyncTimer = timeoutNew(api, nil, AvahiCallbacks.resync, context)
            resolverRetryTimer = timeoutNew(api, nil, AvahiCallbacks.resolverRetry, context)
            refreshTimer = timeoutNew(api, nil, AvahiCallbacks.refresh, context)
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
            for timer in [reconnectTimer, resyncTimer, resolverRetryTimer, refreshTimer].compactMap({ $0 }) { timeoutFree(timer) }
        }
        avahi_threaded_poll_free(poll)
        continuation.finish()
    }

    // MARK: - LocalDomain: shutdown (publishing and `services` are in their own files)

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

    // MARK: - Connection

    /// Runs `body` holding the poll lock: for calls from outside Avahi's thread only (its
    /// callbacks hold the lock already).
    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        avahi_threaded_poll_lock(poll)
        defer { avahi_threaded_poll_unlock(poll) }
        return try body()
    }

    /// Creates the client. Called at start, and on Avahi's thread after a failure.
    func connect() {
        guard !isShutDown else { return }
        var error: Int32 = 0
        let created = avahi_client_new(avahi_threaded_poll_get(poll), AVAHI_CLIENT_NO_FAIL,
                                       AvahiCallbacks.client, AvahiCallbacks.context(of: self), &error)
        guard let created else {
            let reason = AvahiConversions.errorText(error)
            logger.warning("cannot reach avahi-daemon over D-Bus, retrying", metadata: ["reason": "\(reason)"])
            continuation.yield(.connection(.unavailable(reason)))
            arm(.reconnect, after: options.retryDelay)
            return
        }
        client = created
    }

    func clientChanged(_ newClient: OpaquePointer, _ state: AvahiClientState) {
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
            clientFailed(newClient)
        default:
            break
        }
    }

    /// avahi-daemon or D-Bus went away (every client fails then, in any order), or one
    /// client's connection broke: all clients are made again, which announces every
    /// publication again.
    func clientFailed(_ failed: OpaquePointer) {
        guard !reconnecting else { return }
        reconnecting = true
        running = false // publications wait for the new clients rather than fail on the old ones
        let reason = AvahiConversions.errorText(avahi_client_errno(failed))
        logger.warning("lost avahi-daemon, reconnecting", metadata: ["reason": "\(reason)"])
        continuation.yield(.connection(.connecting(reason)))
        // Freeing the client inside its own callback is unsafe: do it from a timer.
        arm(.reconnect, after: .zero)
        for id in publications.entries.keys.sorted() { continuation.yield(.publication(id, .waiting)) }
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

    /// Frees the client and everything that hung off it; keeps what must be restored.
    func freeClient() {
        for objectClient in objectClients { avahi_client_free(objectClient) } // frees their objects too
        objectClients = []
        objectClientIndex = [:]
        pool.reset()
        if let client { avahi_client_free(client) } // frees browsers, resolvers and groups too
        client = nil
        running = false
        reconnecting = false
        registering = false
        typeBrowser = nil
        serviceBrowsers = [:]
        browsedTypes.disconnected()
        browserTypes = [:]
        browsersAwaitingAllForNow = []
        typeBrowserAllForNow = false
        resolvers = [:]
        resolverKeys = [:]
        resolverRetries.reset()
        disarm(.resolverRetry)
        hostWatchers = [:]
        hostWatchKeys = [:]
        hostWatchesAllForNow = [:]
        pausedHostWatches = []
        refreshes.reset()
        disarm(.refresh)
        serviceGroups = [:]
        hostGroups = [:]
        groupOwners = [:]
        browse.disconnected()
        awaitingResync = true
        disarm(.resync)
    }

    func finishResync() {
        awaitingResync = false
        perform(browse.sweepStale())
    }

    // MARK: - Timers

    /// One-shot timers on Avahi's thread, created disarmed at start and re-armed as needed.
    enum Timer { case reconnect, resync, resolverRetry, refresh }

    private func timeout(_ timer: Timer) -> OpaquePointer? {
        switch timer {
        case .reconnect: reconnectTimer
        case .resync: resyncTimer
        case .resolverRetry: resolverRetryTimer
        case .refresh: refreshTimer
        }
    }

    func arm(_ timer: Timer, after delay: Duration) {
        guard let api = avahi_threaded_poll_get(poll), let update = api.pointee.timeout_update,
              let timeout = timeout(timer) else { return }
        var when = timeval()
        let milliseconds = delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000
        avahi_elapse_time(&when, UInt32(clamping: milliseconds), 0)
        update(timeout, &when)
    }

    /// Arms `timer` for `instant` (at once if it has passed), or disarms it when nil.
    func arm(_ timer: Timer, at instant: ContinuousClock.Instant?) {
        guard let instant else {
            disarm(timer)
            return
        }
        arm(timer, after: max(.zero, ContinuousClock.now.duration(to: instant)))
    }

    func disarm(_ timer: Timer) {
        guard let api = avahi_threaded_poll_get(poll), let update = api.pointee.timeout_update,
              let timeout = timeout(timer) else { return }
        update(timeout, nil)
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