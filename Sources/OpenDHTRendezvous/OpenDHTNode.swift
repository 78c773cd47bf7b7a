import COpenDHT
import COpenDHTShim
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One OpenDHT node: a `dht_runner` of libopendht-c, which runs its own threads (a socket
/// loop and a DHT loop). This type is the only place that touches OpenDHT's C API: its
/// callbacks arrive on OpenDHT's threads and become resumed continuations (gets, puts) or
/// calls of a listen's handler here; no pointer leaves it, and the runner lives exactly as
/// long as `close()` has not finished. What the callbacks get back as their context
/// (`Operation`, `ListenSink`) is in `OpenDHTNode+CallbackContexts.swift`.
///
/// Values are opaque bytes to this type (the engine puts its own signed records in them);
/// OpenDHT's default value type gives them a lifetime of ten minutes, which a permanent put
/// refreshes until `cancelPut` is called.
public final class OpenDHTNode: @unchecked Sendable {
    // @unchecked: `runner` is set once; OpenDHT's runner is thread-safe (it queues every
    // call onto its own loop); everything mutable is behind `state`.

    /// A 160-bit OpenDHT key.
    public struct Key: Hashable, Sendable {
        public var bytes: [UInt8]
        /// The first 20 bytes of `bytes` (shorter input is padded with zeros).
        public init(_ bytes: [UInt8]) {
            self.bytes = Array((bytes + [UInt8](repeating: 0, count: Self.length)).prefix(Self.length))
        }
        public static let length = Int(HASH_LEN)
    }

    /// A value as OpenDHT holds it: its OpenDHT value id and its data.
    public struct Value: Hashable, Sendable {
        public var id: UInt64
        public var data: [UInt8]
    }

    /// What a listen reports: values present or new, or values that expired (or were
    /// replaced) at the nodes the listen is placed on.
    public struct ListenEvent: Hashable, Sendable {
        public var value: Value
        public var expired: Bool
    }

    /// A running listen, to cancel it.
    public struct Listening: Hashable, Sendable {
        let id: Int
        public let key: Key
    }

    /// The node's routing table, as OpenDHT counts it.
    public struct NodeCounts: Hashable, Sendable {
        public var good: Int
        public var dubious: Int
        public var searches: Int
    }

    public enum StartError: Error, Hashable, Sendable, CustomStringConvertible {
        /// `dht_runner_run_config` refused (the port is taken, or no socket could be opened).
        case notRunning(port: UInt16, code: Int32)
        public var description: String {
            switch self {
            case .notRunning(let port, let code): "OpenDHT could not run on UDP port \(port) (error \(code))"
            }
        }
    }

    private struct State {
        var closed = false
        /// Gets and puts waiting for their done callback, failed at `close()` if still waiting.
        var pending: [ObjectIdentifier: Operation] = [:]
        var listens: [Int: (key: Key, token: ListenToken)] = [:]
        var nextListen = 0
    }

    private let runner: OpaquePointer
    private let state = Mutex(State())

    /// Starts a node on UDP `port` (0: any free port) in OpenDHT network `network`, on IPv4
    /// and IPv6, or on IPv4 only (`ipv6: false`; one socket fewer, for processes holding
    /// hundreds of nodes).
    public init(port: UInt16, network: UInt32, ipv6: Bool = true) throws(StartError) {
        guard let runner = dht_runner_new() else { throw .notRunning(port: port, code: -1) }
        let code: Int32
        if ipv6 {
            var config = dht_runner_config()
            dht_runner_config_default(&config)
            config.dht_config.node_config.network = network
            config.dht_config.node_config.maintain_storage = false
            config.threaded = true
            // No multicast peer discovery: a node meets only the nodes it is told about, as
            // the native engine does.
            config.peer_discovery = false
            config.peer_publish = false
            config.log = false
            code = dht_runner_run_config(runner, port, &config)
        } else {
            code = z2z_dht_runner_run_ipv4(UnsafeMutableRawPointer(runner), port, network)
        }
        guard code == 0, dht_runner_is_running(runner) else {
            dht_runner_delete(runner)
            throw .notRunning(port: port, code: code)
        }
        self.runner = runner
    }

    deinit {
        // `close()` normally ran; if not, the runner still has to stop its threads.
        if !state.withLock({ $0.closed }) { dht_runner_delete(runner) }
    }

    /// The UDP port the node listens on (IPv4).
    public var port: UInt16 {
        state.withLock { $0.closed ? 0 : dht_runner_get_bound_port(runner, sa_family_t(AF_INET)) }
    }

    /// The node's OpenDHT id, in hex.
    public var nodeID: String {
        var id = dht_runner_get_node_id(runner)
        return String(cString: dht_infohash_print(&id))
    }

    public var nodeCounts: NodeCounts {
        let counts = state.withLock { state in
            state.closed ? z2z_dht_node_counts() : z2z_dht_runner_node_counts(UnsafeRawPointer(runner))
        }
        return NodeCounts(good: counts.good, dubious: counts.dubious, searches: counts.searches)
    }

    /// A node of the routing table: its OpenDHT id (20 bytes) and where it listens.
    public struct KnownNode: Sendable, Equatable {
        public var id: [UInt8]
        public var address: [UInt8]
        public var port: UInt16
    }

    /// The good nodes of the routing table (at most `limit`): what a restart can rejoin through.
    public func knownNodes(limit: Int = 256) -> [KnownNode] {
        state.withLock { state in
            guard !state.closed, limit > 0 else { return [] }
            var buffer = [z2z_dht_node_export](repeating: z2z_dht_node_export(), count: limit)
            let count = buffer.withUnsafeMutableBufferPointer { z2z_dht_runner_export_nodes(UnsafeRawPointer(runner), $0.baseAddress, limit) }
            return buffer.prefix(min(count, limit)).map { node in
                var node = node
                let id = withUnsafeBytes(of: &node.id) { Array($0) }
                let address = withUnsafeBytes(of: &node.address) { Array($0.prefix(Int(node.address_length))) }
                return KnownNode(id: id, address: address, port: node.port)
            }
        }
    }

    /// Pings the node at `address`:`port` (an IPv4 or IPv6 literal) now. OpenDHT's
    /// `bootstrap` only adds a node to the list it tries while it knows nobody, so a node
    /// already in a mesh meets another mesh only through a ping. Returns false when
    /// `address` is not a literal.
    @discardableResult
    public func ping(address: String, port: UInt16) -> Bool {
        guard !state.withLock({ $0.closed }) else { return false }
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, address, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            ping(&v4)
            return true
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, address, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            ping(&v6)
            return true
        }
        return false
    }

    /// Hands a `sockaddr_in` or `sockaddr_in6` to OpenDHT's ping, as the `sockaddr` it takes.
    private func ping<Address>(_ address: inout Address) {
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                dht_runner_ping(runner, $0, socklen_t(MemoryLayout<Address>.size), nil, nil)
            }
        }
    }

    /// Joins through the node at `host`:`port` (a name or an address); OpenDHT resolves and
    /// pings it on its own thread.
    public func bootstrap(host: String, port: UInt16) {
        guard !state.withLock({ $0.closed }) else { return }
        dht_runner_bootstrap(runner, host, String(port))
    }

    /// How a put ended.
    public enum PutOutcome: Hashable, Sendable {
        /// At least one node stored it.
        case stored
        /// OpenDHT gave up: no node stored it (or the node is closed).
        case refused
        /// No answer within the time allowed; OpenDHT goes on with it (a permanent put
        /// keeps being announced).
        case pending
    }

    /// Puts `data` under `key` with OpenDHT value id `id` (not 0). Permanent: the node
    /// refreshes it before it expires until `cancelPut(key:id:)`. Waits at most `timeout`
    /// for OpenDHT to say whether a node stored it.
    public func put(key: Key, id: UInt64, data: [UInt8], permanent: Bool, timeout: Duration = .seconds(5)) async -> PutOutcome {
        let operation = Operation()
        guard register(operation) else { return .refused }
        let deadline = operation.expire(after: timeout)
        let ok = await withCheckedContinuation { continuation in
            operation.start(continuation)
            guard let value = data.withUnsafeBufferPointer({ dht_value_new($0.baseAddress, $0.count) }) else {
                operation.complete(ok: false)
                return
            }
            z2z_dht_value_set_id(UnsafeMutableRawPointer(value), id)
            var hash = Self.infohash(key)
            dht_runner_put(runner, &hash, value, { ok, context in
                guard let context else { return }
                Unmanaged<Operation>.fromOpaque(context).takeRetainedValue().complete(ok: ok)
            }, Unmanaged.passRetained(operation).toOpaque(), permanent)
            // The runner holds its own reference to the value.
            dht_value_unref(value)
        }
        deadline.cancel()
        unregister(operation)
        return ok ? .stored : operation.timedOut ? .pending : .refused
    }

    /// Stops refreshing a permanent put; the copies stored expire on their own.
    public func cancelPut(key: Key, id: UInt64) {
        guard !state.withLock({ $0.closed }) else { return }
        var hash = Self.infohash(key)
        dht_runner_cancel_put(runner, &hash, id)
    }

    /// Wakes OpenDHT's search for `key` if it gave up, and does nothing to a live one.
    ///
    /// Why (opendht 2.4.12, src/dht.cpp): a search whose nodes all failed (the link was down)
    /// expires and drops its nodes. Puts and listens on the key reuse the dead search
    /// (`announce`, `listenTo`) without refilling it, so every put is refused at once and the
    /// listen hears nothing; a node that answers again is put back only by
    /// `trySearchInsert`, which stops at the first live search that already holds it. Only a
    /// lookup (`Dht::search`) refills a search from the routing table. A lookup on a key we
    /// listen to is answered from the search's cache; otherwise it asks the nodes once.
    public func revive(key: Key) {
        guard !state.withLock({ $0.closed }) else { return }
        var hash = Self.infohash(key)
        dht_runner_get(runner, &hash, { _, _ in true }, { _, _ in }, nil)
    }

    /// The values under `key` (a lookup); `nil` when the lookup failed or the node is closed.
    /// After `timeout`, the values found so far.
    public func get(key: Key, timeout: Duration = .seconds(5)) async -> [Value]? {
        let operation = Operation()
        guard register(operation) else { return nil }
        let deadline = operation.expire(after: timeout)
        let ok = await withCheckedContinuation { continuation in
            operation.start(continuation)
            var hash = Self.infohash(key)
            dht_runner_get(runner, &hash, { value, context in
                guard let context, let value else { return true }
                let operation = Unmanaged<Operation>.fromOpaque(context).takeUnretainedValue()
                operation.collect(OpenDHTNode.value(value))
                return true
            }, { ok, context in
                guard let context else { return }
                Unmanaged<Operation>.fromOpaque(context).takeRetainedValue().complete(ok: ok)
            }, Unmanaged.passRetained(operation).toOpaque())
        }
        deadline.cancel()
        unregister(operation)
        return ok || operation.timedOut ? operation.values : nil
    }

    /// Listens to `key`: `handler` gets the values present first, then every new and
    /// expired value, until `cancelListen(_:)` or `close()`. It is called on OpenDHT's
    /// thread, one event at a time, and must not block or call back into this node.
    public func listen(key: Key, handler: @escaping @Sendable (ListenEvent) -> Void) -> Listening? {
        let id = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            state.nextListen += 1
            return state.nextListen
        }
        guard let id else { return nil }
        var hash = Self.infohash(key)
        // The sink is released by OpenDHT's guard when the listen is dropped (cancelled, or
        // the runner stopped): the `dht_shutdown_cb` below.
        let token = dht_runner_listen(runner, &hash, { value, expired, context in
            guard let context, let value else { return true }
            Unmanaged<ListenSink>.fromOpaque(context).takeUnretainedValue()
                .handler(ListenEvent(value: OpenDHTNode.value(value), expired: expired))
            return true
        }, { context in
            guard let context else { return }
            Unmanaged<ListenSink>.fromOpaque(context).release()
        }, Unmanaged.passRetained(ListenSink(handler)).toOpaque())
        guard let token else { return nil }
        let listenToken = ListenToken(pointer: token)
        state.withLock { $0.listens[id] = (key, listenToken) }
        return Listening(id: id, key: key)
    }

    public func cancelListen(_ listening: Listening) {
        let entry = state.withLock { state in state.closed ? nil : state.listens.removeValue(forKey: listening.id) }
        guard let entry else { return }
        var hash = Self.infohash(entry.key)
        dht_runner_cancel_listen(runner, &hash, entry.token.pointer)
        dht_op_token_delete(entry.token.pointer)
    }

    /// Stops the node: OpenDHT's shutdown (it tells nothing to others; its values expire),
    /// then its threads. Waiting gets and puts return failure.
    public func close() async {
        let (pending, listens) = state.withLock { state -> ([Operation], [ListenToken]) in
            guard !state.closed else { return ([], []) }
            state.closed = true
            defer { state.pending = [:]; state.listens = [:] }
            return (Array(state.pending.values), state.listens.values.map(\.token))
        }
        for operation in pending { operation.complete(ok: false) }
        let stopped = Operation()
        // OpenDHT's shutdown ends its searches; it is given a few seconds, not more.
        let deadline = Task {
            try await Task.sleep(for: .seconds(3))
            stopped.complete(ok: false)
        }
        _ = await withCheckedContinuation { continuation in
            stopped.start(continuation)
            dht_runner_shutdown(runner, { context in
                guard let context else { return }
                Unmanaged<Operation>.fromOpaque(context).takeRetainedValue().complete(ok: true)
            }, Unmanaged.passRetained(stopped).toOpaque())
        }
        deadline.cancel()
        // Joins OpenDHT's threads (every callback has run by then), which blocks: on a thread
        // of its own, neither on Swift's cooperative pool nor on Dispatch's global queues
        // (on Linux they share a few threads, one per core).
        let ending = Ending(runner: runner, listens: listens)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                dht_runner_delete(ending.runner)
                for token in ending.listens { dht_op_token_delete(token.pointer) }
                continuation.resume()
            }
        }
    }

    // MARK: internals

    private func register(_ operation: Operation) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.pending[ObjectIdentifier(operation)] = operation
            return true
        }
    }

    private func unregister(_ operation: Operation) {
        _ = state.withLock { $0.pending.removeValue(forKey: ObjectIdentifier(operation)) }
    }

    private static func infohash(_ key: Key) -> dht_infohash {
        var hash = dht_infohash()
        withUnsafeMutableBytes(of: &hash.d) { buffer in
            for (index, byte) in key.bytes.prefix(buffer.count).enumerated() { buffer[index] = byte }
        }
        return hash
    }

    /// Copies a value out of OpenDHT's memory (valid only during the callback).
    fileprivate static func value(_ value: OpaquePointer) -> Value {
        let view = dht_value_get_data(value)
        let data = view.data.map { Array(UnsafeBufferPointer(start: $0, count: view.size)) } ?? []
        return Value(id: dht_value_get_id(value), data: data)
    }
}

/// A listen's `dht_op_token*`, owned by the node's state until cancelled or closed.
private struct ListenToken: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// What `close()` hands to the thread that deletes the runner: nothing else uses them then.
private struct Ending: @unchecked Sendable {
    let runner: OpaquePointer
    let listens: [ListenToken]
}
