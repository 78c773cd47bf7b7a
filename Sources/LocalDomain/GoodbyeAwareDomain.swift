import DNSSD
import Synchronization

/// A local domain whose removals come as early as the wire allows: the responder's events
/// (avahi-daemon) and the goodbyes a listener reads off the link are folded by a
/// `GoodbyeTable` into one stream, so the gateway hears of each removal once. The service
/// types the listener hears named on the link go to the wrapped domain (`typeHeard`), so a
/// new type is browsed as soon as a packet names it, not at the responder's next
/// enumeration query; the SRV, TXT and address records it hears go there too
/// (`recordsHeard`). Publishing goes straight to the wrapped domain.
///
/// `run()` does the folding; it runs until cancelled or until the wrapped domain's events end
/// (after `shutdown()`), and ends `events` then.
public final class GoodbyeAwareDomain: LocalDomain {
    public let events: AsyncStream<LocalDomainEvent>
    private let continuation: AsyncStream<LocalDomainEvent>.Continuation
    private let inner: any LocalDomain
    private let goodbyes: AsyncStream<ServiceID>
    private let types: AsyncStream<ServiceType>
    private let announcements: AsyncStream<ServiceID>?
    private let records: AsyncStream<[MDNSResponse.Record]>?
    private let table: Mutex<GoodbyeTable>
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    /// - Parameters:
    ///   - goodbyes: ids of services that said goodbye on the link (`MDNSListener`).
    ///   - types: service types named on the link (`MDNSListener`).
    ///   - announcements: ids of services announced on the link; with them a goodbye may wait
    ///     without a `confirmation` time (`GoodbyeTable.announced`).
    ///   - records: the SRV, TXT and address records of each datagram on the link, for the
    ///     wrapped domain's `recordsHeard`.
    public init(wrapping inner: any LocalDomain, goodbyes: AsyncStream<ServiceID>, types: AsyncStream<ServiceType>,
                announcements: AsyncStream<ServiceID>? = nil, records: AsyncStream<[MDNSResponse.Record]>? = nil,
                confirmation: Duration? = GoodbyeTable.defaultConfirmation) {
        self.inner = inner
        self.goodbyes = goodbyes
        self.types = types
        self.announcements = announcements
        self.records = records
        table = Mutex(GoodbyeTable(confirmation: confirmation))
        (events, continuation) = AsyncStream.makeStream(of: LocalDomainEvent.self)
        origin = clock.now
    }

    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in self.inner.events { self.pass(self.table.withLock { $0.responder(event) }) }
            }
            group.addTask {
                for await id in self.goodbyes {
                    let now = self.elapsed
                    self.pass(self.table.withLock { $0.goodbye(id, now: now) })
                }
                // Without goodbyes (no listener) the responder's events still flow.
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3_600)) }
            }
            if let announcements = self.announcements {
                group.addTask {
                    for await id in announcements { self.pass(self.table.withLock { $0.announced(id) }) }
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3_600)) }
                }
            }
            if let records = self.records {
                group.addTask {
                    for await batch in records { self.inner.recordsHeard(batch) }
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3_600)) }
                }
            }
            group.addTask {
                for await type in self.types { self.inner.typeHeard(type) }
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3_600)) }
            }
            group.addTask {
                // Unconfirmed goodbyes are taken back within a quarter second of being due.
                while (try? await Task.sleep(for: .milliseconds(250))) != nil {
                    let now = self.elapsed
                    self.pass(self.table.withLock { $0.tick(now: now) })
                }
            }
            // The responder's stream ends after shutdown(): so does this domain's.
            await group.next()
            group.cancelAll()
        }
        continuation.finish()
    }

    private var elapsed: Duration { origin.duration(to: clock.now) }

    private func pass(_ events: [LocalDomainEvent]) {
        for event in events { continuation.yield(event) }
    }

    public func publish(_ publication: Publication) async throws(PublishError) -> PublicationID {
        try await inner.publish(publication)
    }

    public func update(_ id: PublicationID, to publication: Publication) async throws(PublishError) {
        try await inner.update(id, to: publication)
    }

    public func withdraw(_ id: PublicationID) async { await inner.withdraw(id) }

    public func typeHeard(_ type: ServiceType) { inner.typeHeard(type) }

    public func recordsHeard(_ records: [MDNSResponse.Record]) { inner.recordsHeard(records) }

    public func shutdown() async { await inner.shutdown() }
}
