// Makes "one writer per store" a fact rather than a hope. Two writers would
// each believe they own the checkpoint; SQLite would serialize their commits
// but both would assign the same sequences and confirm positions the other
// stored. An exclusive flock(2) on `<store>.lock`, held while the writer is
// open, turns a second writer (another pipeline, another process) into a clear
// error. The lock goes away with the process, so a crash never leaves a stale
// lock behind. A separate file, because closing any descriptor of the database
// file itself would drop SQLite's own POSIX locks on it.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

final class WriterLock {
    private var descriptor: Int32

    init(storePath: String) throws(EventStoreError) {
        let lockPath = storePath + ".lock"
        descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            throw EventStoreError(
                kind: FileSystem.kind(forErrno: code), operation: "open writer lock \(lockPath)",
                path: storePath, message: systemErrorText(code), systemErrno: code)
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            descriptor = -1
            throw EventStoreError(
                kind: code == EWOULDBLOCK ? .writerAlreadyOpen : FileSystem.kind(forErrno: code),
                operation: "lock \(lockPath)", path: storePath,
                message: code == EWOULDBLOCK
                    ? "another writer has this store open" : systemErrorText(code),
                systemErrno: code)
        }
    }

    deinit { release() }

    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)  // closing the descriptor releases the flock
        descriptor = -1
    }
}
