/// Why the state directory or its database could not be used.
public enum StateStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The directory could not be created (`reason` is the system's word for why).
    case cannotCreateDirectory(path: String, reason: String)
    case notADirectory(path: String)
    /// A file could not be created in the directory.
    case notWritable(path: String, reason: String)
    /// Another z2zd holds the directory's lock.
    case inUse(path: String)
    /// SQLite refused to open, migrate, read or write.
    case database(path: String, reason: String)
    /// The stored identity is not a 32-byte Ed25519 key (a damaged database).
    case corruptIdentity(bytes: Int)
    /// A record would move back to a lower sequence number than the one stored.
    case staleSequence(stored: UInt64, offered: UInt64)
    case routingCacheTooLarge(count: Int, limit: Int)

    /// A stable code for logs and metrics.
    public var reason: String {
        switch self {
        case .cannotCreateDirectory: "cannot_create_directory"
        case .notADirectory: "not_a_directory"
        case .notWritable: "not_writable"
        case .inUse: "in_use"
        case .database: "database"
        case .corruptIdentity: "corrupt_identity"
        case .staleSequence: "stale_sequence"
        case .routingCacheTooLarge: "routing_cache_too_large"
        }
    }

    public var description: String {
        switch self {
        case .cannotCreateDirectory(let path, let reason):
            "cannot create the state directory \(path): \(reason); create it, or choose another with --state-dir"
        case .notADirectory(let path):
            "the state directory \(path) is not a directory; choose another with --state-dir"
        case .notWritable(let path, let reason):
            "the state directory \(path) is not writable: \(reason); run z2zd as its owner, or choose another with --state-dir"
        case .inUse(let path):
            "the state directory \(path) is in use by another z2zd; stop it, or give each gateway its own --state-dir"
        case .database(let path, let reason):
            "state database \(path): \(reason)"
        case .corruptIdentity(let bytes):
            "the stored node identity has \(bytes) bytes instead of 32; move the state database aside to start with a new identity"
        case .staleSequence(let stored, let offered):
            "sequence \(offered) is below the stored \(stored); sequence numbers never go back"
        case .routingCacheTooLarge(let count, let limit):
            "\(count) contacts exceed the routing cache's limit of \(limit)"
        }
    }
}
