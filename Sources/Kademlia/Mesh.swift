import Primitives

/// The other members of a small overlay in direct exchange (the interconnection stage):
/// every node this one knows, with its liveness. Unlike the routing table it has no buckets
/// and no capacity: below the structure threshold everyone talks to everyone, so every
/// member is kept until it stops answering.
public struct Mesh: Sendable {
    public struct Member: Hashable, Sendable {
        public var contact: Contact
        public var lastSeen: Instant
        /// Consecutive requests that went unanswered.
        public var failures: Int
    }

    public private(set) var members: [NodeID: Member] = [:]

    public init() {}

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    public func contains(_ id: NodeID) -> Bool { members[id] != nil }

    /// The members, ordered by id.
    public var contacts: [Contact] { members.values.map(\.contact).sorted { $0.id < $1.id } }

    /// The `count` members closest to `target`, closest first.
    public func closest(to target: NodeID, count: Int, excluding excluded: NodeID? = nil) -> [Contact] {
        members.values.lazy.map(\.contact).filter { $0.id != excluded }
            .sorted { $0.id.distance(to: target) < $1.id.distance(to: target) }
            .prefix(count).map { $0 }
    }

    /// `contact` sent a valid message at `now`; returns true when it is a new member.
    public mutating func observe(_ contact: Contact, now: Instant) -> Bool {
        let isNew = members[contact.id] == nil
        members[contact.id] = Member(contact: contact, lastSeen: now, failures: 0)
        return isNew
    }

    /// A request to `id` went unanswered; after `maxFailures` in a row the member is
    /// removed and returned.
    public mutating func recordFailure(_ id: NodeID, maxFailures: Int) -> Contact? {
        guard members[id] != nil else { return nil }
        members[id]!.failures += 1
        guard members[id]!.failures >= maxFailures else { return nil }
        return members.removeValue(forKey: id)?.contact
    }

    public mutating func removeAll() { members.removeAll() }

    /// Members not heard from since `instant`, ordered by id.
    public func silent(since instant: Instant) -> [Contact] {
        members.values.filter { $0.lastSeen < instant }.map(\.contact).sorted { $0.id < $1.id }
    }
}
