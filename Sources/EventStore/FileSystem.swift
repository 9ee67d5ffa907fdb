// The few POSIX calls the store needs besides SQLite: creating the data
// directory and reading the wall clock. Plain libc, so the store does not
// pull in Foundation.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

enum FileSystem {
    /// Creates the directory holding `path` and any missing parents (`mkdir -p`),
    /// readable only by the owner: the events hold row images.
    static func createParentDirectory(of path: String) throws(EventStoreError) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let directory = String(path[..<slash])
        guard !isDirectory(directory) else { return }
        var current = path.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") {
            current += (current.isEmpty || current.hasSuffix("/") ? "" : "/") + component
            if component == "." || component == ".." || mkdir(current, 0o700) == 0 { continue }
            var code = errno
            if code == EEXIST {
                if isDirectory(current) { continue }
                code = ENOTDIR
            }
            throw EventStoreError(
                kind: kind(forErrno: code), operation: "create directory \(current)", path: path,
                message: systemErrorText(code), systemErrno: code)
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func kind(forErrno code: Int32) -> EventStoreError.Kind {
        switch code {
        case ENOENT, ENOTDIR: .notFound
        case EACCES, EPERM: .permissionDenied
        case EROFS: .readOnly
        case ENOSPC, EDQUOT: .diskFull
        default: .ioError
        }
    }
}
