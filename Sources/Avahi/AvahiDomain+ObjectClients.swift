import CAvahi
import LocalDomain

/// Object clients: the client connections that hold our entry groups, service resolvers
/// and address-record browsers, as many as `ClientPool` says (avahi-daemon limits the
/// objects of one client). The first client only browses (types and services: a few dozen
/// objects). All share Avahi's one thread and poll lock; a failure of any reconnects them all.
extension AvahiDomain {
    /// A new object made by `make` on the client the pool names, that client connected
    /// first if need be. A client the daemon refuses another object is full at what it
    /// holds, and the next one is tried.
    func newObject(_ make: (OpaquePointer) -> OpaquePointer?) throws(PublishError) -> OpaquePointer {
        while true {
            let index = pool.place()
            let owner = try objectClient(index)
            if let object = make(owner) {
                objectClientIndex[object] = index
                return object
            }
            let code = avahi_client_errno(owner)
            guard code == AVAHI_ERR_TOO_MANY_OBJECTS, pool.refused(index) else {
                if code != AVAHI_ERR_TOO_MANY_OBJECTS { pool.release(index) }
                throw .refused(code: code, message: AvahiConversions.errorText(code))
            }
            logger.info("avahi-daemon holds a client to fewer objects than assumed; using another",
                        metadata: ["client": "\(index)", "objects": "\(pool.loads[index])"])
        }
    }

    /// The object is about to be freed: its client has room again.
    func releaseObject(_ object: OpaquePointer) {
        guard let index = objectClientIndex.removeValue(forKey: object) else { return }
        pool.release(index)
        // A resolver refused for want of room may fit now: try the waiting ones at once
        // (the timer runs after this callback, once the object is really gone).
        if resolverRetries.count > 0, resolverRetries.capacityFreed(now: .now) { arm(.resolverRetry, after: .zero) }
    }

    /// The client `object` lives on (for its error code), or the browsing client.
    func clientHolding(_ object: OpaquePointer) -> OpaquePointer? {
        guard let index = objectClientIndex[object], index < objectClients.count else { return client }
        return objectClients[index]
    }

    /// Object client `index`, connected now if it is new (the daemon runs: objects are made
    /// only then).
    private func objectClient(_ index: Int) throws(PublishError) -> OpaquePointer {
        if index < objectClients.count { return objectClients[index] }
        var error: Int32 = 0
        guard let created = avahi_client_new(avahi_threaded_poll_get(poll), AvahiClientFlags(0),
                                             AvahiCallbacks.objectClient, AvahiCallbacks.context(of: self), &error)
        else {
            pool.release(index)
            throw .refused(code: error, message: AvahiConversions.errorText(error))
        }
        objectClients.append(created)
        if objectClients.count > 1 {
            logger.info("using another avahi client for groups and lookups", metadata: ["clients": "\(objectClients.count)"])
        }
        return created
    }

    /// An object client changed state. Host-name registration and the daemon running again
    /// reach the browsing client too, which handles them for all; only a failure is this
    /// client's own.
    func objectClientChanged(_ changed: OpaquePointer, _ state: AvahiClientState) {
        guard state == AVAHI_CLIENT_FAILURE, !isShutDown, objectClients.contains(changed) else { return }
        clientFailed(changed)
    }
}
