// A throwaway folder for static-file tests, removed again by `remove()`.
import Glibc

final class TempFolder {
    let path: String
    private var created: [String] = []

    init() throws {
        var template = Array("/tmp/popsink-http-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw TestClientError(description: "mkdtemp failed") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String, _ contents: String) {
        let full = "\(path)/\(name)"
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = contents.utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        created.append(full)
    }

    func folder(_ name: String) {
        mkdir("\(path)/\(name)", 0o755)
        created.append("\(path)/\(name)")
    }

    func symlink(_ name: String, to target: String) {
        _ = Glibc.symlink(target, "\(path)/\(name)")
        created.append("\(path)/\(name)")
    }

    func remove() {
        for entry in created.reversed() {
            if unlink(entry) != 0 { rmdir(entry) }
        }
        rmdir(path)
    }
}
