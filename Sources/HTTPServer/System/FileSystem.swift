// The file calls behind `StaticFiles`: resolve a path with `realpath` and read a
// regular file whole, refusing anything else (directories, devices, FIFOs).
import Glibc

enum FileSystem {
    enum ReadResult: Equatable {
        case contents([UInt8])
        case notFound
        case directory
        case tooLarge
    }

    /// The canonical absolute path with every symlink resolved, or nil if it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Reads a regular file. `O_NOFOLLOW`: the caller passes an already resolved path,
    /// so a symlink swapped in afterwards is refused rather than followed.
    static func readFile(at path: String, limit: Int) -> ReadResult {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { return .notFound }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .notFound }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return .directory
        default: return .notFound
        }
        guard info.st_size <= limit else { return .tooLarge }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            filled += count
        }
        return .contents(Array(bytes.prefix(filled)))
    }
}
