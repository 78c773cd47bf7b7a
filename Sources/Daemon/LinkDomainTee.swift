import DNSSD
import LocalDomain
import Synchronization

/// One router link's local domain shared by the two parts of z2zd that use it: the link
/// exchange (`LinkRouter`) and the link's gateway towards the rest of the network
/// (`GatewayDriver`, router mode). Each part gets a branch, a `LocalDomain` of its own:
/// every event of the link except the progress of the other branch's publications, and
/// publishing through the link's domain.
///
/// A branch may say its own goodbyes (`goodbye`): avahi-daemon sends none when an
/// interface-scoped entry group is freed (see `LinkRouter.init`), so a withdrawal is
/// followed by the PTR goodbye at once and again `LinkRouter.goodbyeRepeat` later.
///
/// `run()` hands the events out until the link's domain ends its events (or the task is
/// cancelled), then ends the branches' events; the link's domain is shut down by its owner,
/// never by a branch.
final class LinkDomainTee: Sendable {
    let branches: [Branch]
    private let inner: any LocalDomain
    /// Which branch published each publication: its progress goes to that branch only.
    private let owners: Owners

    /// - Parameter goodbyes: one per branch: sends a datagram on the link, or nil (that branch
    ///   says its goodbyes itself).
    init(_ inner: any LocalDomain, goodbyes: [(@Sendable ([UInt8]) -> Void)?]) {
        self.inner = inner
        let owners = Owners()
        self.owners = owners
        branches = goodbyes.enumerated().map { Branch(index: $0.offset, inner: inner, owners: owners, goodbye: $0.element) }
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            for branch in branches { group.addTask { await branch.repeatGoodbyes() } }
            for await event in inner.events {
                if case .publication(let id, _) = event, let owner = owners.owner(of: id) {
                    branches[owner].pass(event)
                } else {
                    for branch in branches { branch.pass(event) }
                }
            }
            for branch in branches { branch.finish() }
            group.cancelAll()
        }
    }

    final class Owners: Sendable {
        private let table = Mutex<[PublicationID: Int]>([:])
        func owner(of id: PublicationID) -> Int? { table.withLock { $0[id] } }
        func set(_ id: PublicationID, _ owner: Int?) { table.withLock { $0[id] = owner } }
    }

    /// One part's view of the link.
    final class Branch: LocalDomain {
        let events: AsyncStream<LocalDomainEvent>
        private let continuation: AsyncStream<LocalDomainEvent>.Continuation
        private let index: Int
        private let inner: any LocalDomain
        private let owners: Owners
        private let goodbye: (@Sendable ([UInt8]) -> Void)?
        /// What each publication of this branch is called, for its goodbye.
        private let names = Mutex<[PublicationID: (ServiceID, [Subtype])]>([:])
        private let repeats: (stream: AsyncStream<([UInt8], ContinuousClock.Instant)>,
                              continuation: AsyncStream<([UInt8], ContinuousClock.Instant)>.Continuation)

        fileprivate init(index: Int, inner: any LocalDomain, owners: Owners, goodbye: (@Sendable ([UInt8]) -> Void)?) {
            self.index = index
            self.inner = inner
            self.owners = owners
            self.goodbye = goodbye
            (events, continuation) = AsyncStream.makeStream(of: LocalDomainEvent.self)
            repeats = AsyncStream.makeStream(of: ([UInt8], ContinuousClock.Instant).self)
        }

        func publish(_ publication: Publication) async throws(PublishError) -> PublicationID {
            let id = try await inner.publish(publication)
            owners.set(id, index)
            names.withLock { $0[id] = (publication.id, publication.subtypes) }
            return id
        }

        func update(_ id: PublicationID, to publication: Publication) async throws(PublishError) {
            try await inner.update(id, to: publication)
            names.withLock { if $0[id] != nil { $0[id] = (publication.id, publication.subtypes) } }
        }

        func withdraw(_ id: PublicationID) async {
            await inner.withdraw(id)
            owners.set(id, nil)
            guard let (name, subtypes) = names.withLock({ $0.removeValue(forKey: id) }), let goodbye else { return }
            let packet = MDNSGoodbyes.packet(for: name, subtypes: subtypes)
            goodbye(packet)
            repeats.continuation.yield((packet, ContinuousClock.now + LinkRouter.goodbyeRepeat))
        }

        func typeHeard(_ type: ServiceType) { inner.typeHeard(type) }

        /// Ends this branch's events only: the link's domain belongs to the router.
        func shutdown() async { finish() }

        fileprivate func pass(_ event: LocalDomainEvent) { continuation.yield(event) }

        fileprivate func finish() {
            continuation.finish()
            repeats.continuation.finish()
        }

        fileprivate func repeatGoodbyes() async {
            for await (packet, due) in repeats.stream {
                do { try await Task.sleep(until: due, clock: .continuous) } catch { return }
                goodbye?(packet)
            }
        }
    }
}
