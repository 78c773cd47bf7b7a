import Primitives

/// The UDP flows of one importing listener, as a value: which client address has a stream
/// to the exporting leader, which is still being opened (its first datagrams held), which
/// was refused lately (its datagrams dropped for `RelayLimits.flowRefusalHold`). The adapter
/// feeds it datagrams and stream outcomes with `now` and does what it answers.
///
/// Invariants: at most `RelayLimits.connectionsPerListener` flows are opening or open; at
/// most `RelayLimits.flowQueueDatagrams` datagrams are held per opening flow.
struct FlowTable<Client: Hashable, Handle, Datagram> {
    enum Flow {
        case opening(held: [Datagram])
        case open(Handle)
        case refused(until: Instant)
    }

    /// What to do with one datagram from a client.
    enum Verdict {
        /// Send it on this flow's stream.
        case forward(Handle)
        /// Held until the flow's stream is answered.
        case held
        /// A new flow: open a stream for this client; the datagram is held.
        case openStream
        case drop(Drop)
    }

    enum Drop: Hashable {
        /// The listener has no room for another flow (`limitConnectionsService`).
        case limit
        /// The flow's stream was refused a moment ago.
        case refused
        /// Too many datagrams held while the stream opens.
        case queueFull
    }

    let limits: RelayLimits
    private(set) var flows: [Client: Flow] = [:]

    init(limits: RelayLimits) { self.limits = limits }

    /// Flows opening or open (refused ones hold no stream).
    var active: Int { flows.values.count { if case .refused = $0 { false } else { true } } }

    mutating func datagram(_ datagram: Datagram, from client: Client, now: Instant) -> Verdict {
        switch flows[client] {
        case .open(let handle)?:
            return .forward(handle)
        case .opening(var held)?:
            guard held.count < limits.flowQueueDatagrams else { return .drop(.queueFull) }
            held.append(datagram)
            flows[client] = .opening(held: held)
            return .held
        case .refused(let until)? where now < until:
            return .drop(.refused)
        case .refused?, nil:
            flows[client] = nil
            guard active < limits.connectionsPerListener else { return .drop(.limit) }
            if flows.count >= limits.connectionsPerListener {
                // Refused entries expire lazily; sweep them before the table grows past its bound.
                flows = flows.filter { if case .refused(let until) = $0.value { now < until } else { true } }
            }
            flows[client] = .opening(held: [datagram])
            return .openStream
        }
    }

    /// The client's stream was accepted: it is open, and here are the datagrams to send now.
    mutating func accepted(_ client: Client, handle: Handle) -> [Datagram] {
        guard case .opening(let held)? = flows[client] else { return [] }
        flows[client] = .open(handle)
        return held
    }

    /// The client's stream was refused: its held datagrams are dropped, and so are new ones
    /// for a while.
    mutating func refused(_ client: Client, now: Instant) {
        guard flows[client] != nil else { return }
        flows[client] = .refused(until: now + limits.flowRefusalHold)
    }

    /// The client's stream closed (idle, revoked, tunnel lost): the next datagram opens anew.
    mutating func ended(_ client: Client) {
        if case .refused? = flows[client] { return }
        flows[client] = nil
    }

    /// Every open flow's handle, for closing the listener.
    var handles: [Handle] { flows.values.compactMap { if case .open(let h) = $0 { h } else { nil } } }
}
