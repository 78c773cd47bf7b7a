import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starting a child process with a clean slate, which Foundation's `Process` on Linux
/// does not give:
/// - the child inherits the spawning thread's signal mask, and Swift's threads block
///   SIGTERM and friends, so `terminate()` would not stop a plain `sleep`; and it keeps
///   ignored signals (SIGINT, SIGQUIT in the test runner) ignored;
/// - `Process` learns that a child exited when a socket it hands down to the child
///   closes, so a daemon the child starts (and that keeps the socket) holds back the
///   termination handler until the daemon exits.
/// Here: signal mask empty, every signal's handling default, descriptors other than
/// stdin/stdout/stderr closed, a process group of its own (so its helpers can be
/// signalled with it), and a thread that waits for it.
enum Spawn {
    /// Starts `executable` with `arguments` and the given descriptors as 0, 1, 2.
    static func start(
        _ executable: String, _ arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] {
            try check(posix_spawn_file_actions_adddup2(&actions, fd, target))
        }
        for fd in openDescriptors() where fd > 2 {
            try check(posix_spawn_file_actions_addclose(&actions, fd))
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var everySignal = sigset_t()
        sigemptyset(&everySignal)
        for signal in Int32(1)..<32 where signal != SIGKILL && signal != SIGSTOP {
            sigaddset(&everySignal, signal)
        }
        try check(posix_spawnattr_setsigmask(&attributes, &noSignals))
        try check(posix_spawnattr_setsigdefault(&attributes, &everySignal))
        try check(posix_spawnattr_setpgroup(&attributes, 0))
        try check(posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        try check(posix_spawn(&pid, executable, &actions, &attributes, argv, environ))
        return pid
    }

    /// Calls `exited(exitCode, signal)` on a thread of its own once `pid` has ended.
    static func onExit(of pid: pid_t, _ exited: @escaping @Sendable (Int32, Int32?) -> Void) {
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 {
                guard errno == EINTR else {
                    exited(-1, nil) // not our child any more: nothing to learn
                    return
                }
            }
            let signal = status & 0x7f
            if signal == 0 {
                exited((status >> 8) & 0xff, nil)
            } else {
                exited(128 + signal, signal)
            }
        }
    }

    /// A pipe whose both ends are closed on exec (the child gets copies through dup2).
    static func pipe() throws -> (read: Int32, write: Int32) {
        // pipe2(O_CLOEXEC) is not visible from Swift's Glibc module; the window between
        // pipe and fcntl only matters to spawns outside ChildProcess's launch lock.
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// A connected socket pair for a child's stdin: written with MSG_NOSIGNAL, so a
    /// child that exits without reading does not kill the test process with SIGPIPE.
    static func socketPair() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }

    private static func check(_ error: Int32) throws {
        guard error == 0 else { throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO) }
    }
}
