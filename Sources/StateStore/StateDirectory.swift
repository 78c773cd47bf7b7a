#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file-system side of the state directory: created private (0700), checked writable by
/// creating a file in it (root passes `access(2)` on read-only mounts; a real write does
/// not), and locked so two daemons never share it.
enum StateDirectory {
    static let lockFileName = "z2zd.lock"

    static func prepare(_ path: String) throws(StateStoreError) {
        var info = stat()
        if stat(path, &info) != 0 {
            try create(path)
        } else if info.st_mode & S_IFMT != S_IFDIR {
            throw .notADirectory(path: path)
        }
        let probe = path + "/.z2z-write-probe-\(getpid())"
        let fd = open(probe, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .notWritable(path: path, reason: errorText()) }
        close(fd)
        unlink(probe)
    }

    /// Creates the directory and any missing parents; the last one private to its owner.
    private static func create(_ path: String) throws(StateStoreError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated() {
            prefix += "/" + component
            var info = stat()
            if stat(prefix, &info) == 0 { continue }
            let mode: mode_t = index == components.count - 1 ? 0o700 : 0o755
            guard mkdir(prefix, mode) == 0 || errno == EEXIST else {
                throw .cannotCreateDirectory(path: path, reason: errorText())
            }
        }
    }

    /// Takes the directory's lock for the life of the returned descriptor.
    static func lock(_ path: String) throws(StateStoreError) -> Int32 {
        let fd = open(path + "/" + lockFileName, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .notWritable(path: path, reason: errorText()) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw .inUse(path: path)
        }
        return fd
    }

    /// Creates the database file private to its owner before SQLite opens it (SQLite would
    /// use 0644 less the umask; its -wal and -shm files take the database file's mode), and
    /// tightens an existing one.
    static func createPrivateFile(_ path: String) throws(StateStoreError) {
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .database(path: path, reason: errorText()) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & 0o077 != 0 { fchmod(fd, 0o600) }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
