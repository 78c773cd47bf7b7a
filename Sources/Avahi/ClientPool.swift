/// Which of an `AvahiDomain`'s object clients takes the next object: an entry group, a
/// service resolver or an address-record browser.
///
/// avahi-daemon refuses a client more than `objects-per-client-max` objects (1,024 as
/// Debian ships it). Every publication is an entry group (a synthesized host one more), and
/// every local service two resolvers (and its host two record browsers): a gateway
/// importing or exporting thousands of services spreads them over several client
/// connections instead of asking users to edit avahi-daemon.conf. Pure bookkeeping: the
/// wrapper makes client `n` when `place()` first names it, and frees them all together.
///
/// - Objects go to the lowest-numbered client with room, so a pool that shrank fills its
///   holes before it grows.
/// - `capacity` stays well under the default limit: the daemon may have been configured
///   lower, and a refusal (`refused`) caps that client at what it holds, so the pool grows
///   past any limit above zero.
struct ClientPool {
    /// Objects per client: half of avahi-daemon's default limit.
    static let defaultCapacity = 512

    let capacity: Int
    /// Objects per client, by index.
    private(set) var loads: [Int] = []
    /// Clients the daemon refused another object: full at what they hold.
    private var limits: [Int: Int] = [:]

    init(capacity: Int = defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    var clients: Int { loads.count }

    /// Counts a new object on the first client with room, adding a client when none has:
    /// returns its index.
    mutating func place() -> Int {
        if let index = loads.indices.first(where: { loads[$0] < (limits[$0] ?? capacity) }) {
            loads[index] += 1
            return index
        }
        loads.append(1)
        return loads.count - 1
    }

    /// An object of client `index` is gone.
    mutating func release(_ index: Int) {
        guard loads.indices.contains(index), loads[index] > 0 else { return }
        loads[index] -= 1
    }

    /// The daemon refused client `index` the object just placed there: it counts no more, and
    /// the client is full at what it holds. False when it held nothing (no other client
    /// would fare better: the refusal is not about this client's objects).
    mutating func refused(_ index: Int) -> Bool {
        release(index)
        guard loads.indices.contains(index), loads[index] > 0 else { return false }
        limits[index] = loads[index]
        return true
    }

    /// Every client is gone (avahi-daemon went away): the next object starts a new pool.
    mutating func reset() {
        loads = []
        limits = [:]
    }
}
