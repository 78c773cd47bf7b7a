import DNSSD
import Synchronization

/// An in-memory link for unit tests: every `MemoryDomain` attached to one `MemoryLink` is a
/// host on that link and sees what the others publish, at once and in order.
///
/// It models what the gateway relies on — added/changed/removed events, origin flags, name
/// collisions resolved by the publisher's rename rule — and nothing of mDNS timing.
public final class MemoryLink: Sendable {
    struct Host {
        var name: HostName
        var addresses: [IPAddress]
        var scope: BrowseScope
        var continuation: AsyncStream<LocalDomainEvent>.Continuation
    }

    struct Announcement {
        var owner: Int
        var publication: Publication
        var announcedName: InstanceName
    }

    struct State {
        var hosts: [Int: Host] = [:]
        var announcements: [PublicationID: Announcement] = [:]
        var nextHost = 1
        var nextPublication: UInt64 = 1
    }

    private let state = Mutex(State())

    public init() {}

    func attach(name: HostName, addresses: [IPAddress], scope: BrowseScope,
                continuation: AsyncStream<LocalDomainEvent>.Continuation) -> Int {
        state.withLock { state in
            let id = state.nextHost
            state.nextHost += 1
            state.hosts[id] = Host(name: name, addresses: addresses, scope: scope, continuation: continuation)
            continuation.yield(.connection(.running))
            for (_, announcement) in state.announcements.sorted(by: { $0.key < $1.key })
            where Self.watches(scope, announcement.publication.type) {
                continuation.yield(.added(Self.discovered(announcement, by: id, in: state)))
            }
            continuation.yield(.settled)
            return id
        }
    }

    func publish(_ publication: Publication, from owner: Int) throws(PublishError) -> PublicationID {
        try publication.validate()
        return try state.withLock { state throws(PublishError) -> PublicationID in
            guard let host = state.hosts[owner] else { throw .shutDown }
            let id = PublicationID(state.nextPublication)
            state.nextPublication += 1
            host.continuation.yield(.publication(id, .registering(publication.name)))
            var name = publication.name
            var attempt = 0
            while Self.isTaken(name, publication, in: state) {
                attempt += 1
                let renamed = publication.renameRule.alternative(to: publication.name, attempt: attempt)
                host.continuation.yield(.publication(id, .renamed(from: name, to: renamed)))
                name = renamed
            }
            let announcement = Announcement(owner: owner, publication: publication, announcedName: name)
            state.announcements[id] = announcement
            host.continuation.yield(.publication(id, .established(name)))
            Self.broadcast(announcement, in: state) { .added($0) }
            return id
        }
    }

    func update(_ id: PublicationID, to publication: Publication, from owner: Int) throws(PublishError) {
        try publication.validate()
        try state.withLock { state throws(PublishError) in
            guard var announcement = state.announcements[id], announcement.owner == owner else {
                throw .unknownPublication(id)
            }
            announcement.publication.port = publication.port
            announcement.publication.txt = publication.txt
            announcement.publication.subtypes = publication.subtypes
            announcement.publication.host = publication.host
            state.announcements[id] = announcement
            Self.broadcast(announcement, in: state) { .changed($0) }
        }
    }

    func withdraw(_ id: PublicationID, from owner: Int) {
        state.withLock { state in
            guard let announcement = state.announcements[id], announcement.owner == owner else { return }
            state.announcements[id] = nil
            let serviceID = ServiceID(name: announcement.announcedName, type: announcement.publication.type,
                                      domain: announcement.publication.domain)
            for host in state.hosts.values where Self.watches(host.scope, serviceID.type) {
                host.continuation.yield(.removed(serviceID))
            }
        }
    }

    func detach(_ owner: Int) {
        let ids = state.withLock { state in state.announcements.filter { $0.value.owner == owner }.map(\.key) }
        for id in ids.sorted() { withdraw(id, from: owner) }
        state.withLock { state in
            state.hosts[owner]?.continuation.finish()
            state.hosts[owner] = nil
        }
    }

    private static func isTaken(_ name: InstanceName, _ publication: Publication, in state: State) -> Bool {
        state.announcements.values.contains {
            // Byte comparison: mDNS folds ASCII case only, never Unicode normalization.
            $0.announcedName.canonical.utf8.elementsEqual(name.canonical.utf8) && $0.publication.type == publication.type
                && $0.publication.domain == publication.domain
        }
    }

    private static func watches(_ scope: BrowseScope, _ type: ServiceType) -> Bool {
        switch scope {
        case .allTypes: true
        case .types(let types): types.contains(type)
        case .nothing: false
        }
    }

    private static func broadcast(_ announcement: Announcement, in state: State,
                                  _ event: (DiscoveredService) -> LocalDomainEvent) {
        for (id, host) in state.hosts.sorted(by: { $0.key < $1.key })
        where watches(host.scope, announcement.publication.type) {
            host.continuation.yield(event(discovered(announcement, by: id, in: state)))
        }
    }

    private static func discovered(_ announcement: Announcement, by viewer: Int, in state: State) -> DiscoveredService {
        let publication = announcement.publication
        let owner = state.hosts[announcement.owner]
        let (host, addresses): (HostName, [IPAddress]) = switch publication.host {
        case .thisHost: (owner?.name ?? .local, owner?.addresses ?? [])
        case .synthesized(let name, let addresses): (name, addresses)
        }
        let instance = ServiceInstance(name: announcement.announcedName, type: publication.type,
                                       domain: publication.domain, host: host, port: publication.port,
                                       txt: publication.txt, subtypes: publication.subtypes, addresses: addresses)
        let origin: Origin = announcement.owner == viewer ? [.local, .ourOwn] : []
        return DiscoveredService(instance: instance, origin: origin,
                                 linkAddresses: addresses.map { LinkAddress(interface: 1, address: $0) })
    }
}

/// One host on a `MemoryLink`.
public final class MemoryDomain: LocalDomain {
    public let events: AsyncStream<LocalDomainEvent>
    private let link: MemoryLink
    private let host: Int

    public init(link: MemoryLink, hostName: HostName, addresses: [IPAddress] = [], scope: BrowseScope = .allTypes) {
        let (stream, continuation) = AsyncStream.makeStream(of: LocalDomainEvent.self)
        self.events = stream
        self.link = link
        self.host = link.attach(name: hostName, addresses: addresses, scope: scope, continuation: continuation)
    }

    public func publish(_ publication: Publication) async throws(PublishError) -> PublicationID {
        try link.publish(publication, from: host)
    }

    public func update(_ id: PublicationID, to publication: Publication) async throws(PublishError) {
        try link.update(id, to: publication, from: host)
    }

    public func withdraw(_ id: PublicationID) async { link.withdraw(id, from: host) }

    public func shutdown() async { link.detach(host) }
}
