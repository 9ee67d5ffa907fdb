// Serves the files of one folder (the web dashboard in `Public/`) at `/`, for GET
// and HEAD. No request can reach outside the folder: dot segments, encoded slashes
// and NUL bytes are refused before the file system is asked, and the resolved path
// (symlinks followed by `realpath`) must still lie under the resolved root.

import Blocking

/// A responder for a folder of static files.
public struct StaticFiles: Sendable {
    /// The folder as given.
    public let root: String
    /// Files larger than this are refused with 500 rather than read into memory.
    public var maxFileBytes = 32 * 1024 * 1024
    private let resolvedRoot: String?

    /// `root` is resolved once, now; if it does not exist every lookup finds nothing.
    public init(root: String) {
        self.root = root
        resolvedRoot = FileSystem.realPath(root)
    }

    /// The file `request` names, or nil when this responder has nothing to say: the
    /// method is not GET or HEAD, or no such file exists (so a router can go on).
    /// A path that tries to leave the folder gets 404, a malformed escape 400, both
    /// as problem details (`StaticFiles.Refusal`).
    /// `/` and any directory serve their `index.html`. The file is read on a
    /// `Blocking` thread, not on the caller's.
    public func response(for request: HTTPRequest) async -> HTTPResponse? {
        guard request.method == "GET" || request.method == "HEAD", resolvedRoot != nil else { return nil }
        return await Blocking.run { lookUp(request) }
    }

    /// The file-system side of `response(for:)`, blocking.
    func lookUp(_ request: HTTPRequest) -> HTTPResponse? {
        guard request.method == "GET" || request.method == "HEAD", let resolvedRoot else { return nil }
        let segments: [String]
        switch Self.segments(of: request.path) {
        case .success(let value): segments = value
        case .failure(let refusal): return refusal.response
        }
        var candidate = ([resolvedRoot] + segments).joined(separator: "/")
        if request.path.hasSuffix("/") { candidate += "/index.html" }
        for _ in 0..<2 {
            guard let resolved = FileSystem.realPath(candidate) else { return nil }
            guard resolved == resolvedRoot || resolved.hasPrefix(resolvedRoot == "/" ? "/" : resolvedRoot + "/") else {
                return Refusal.outsideFolder.response
            }
            switch FileSystem.readFile(at: resolved, limit: maxFileBytes) {
            case .contents(let bytes):
                return HTTPResponse(
                    status: 200,
                    headers: [
                        "Content-Type": MediaType.forFile(resolved),
                        "Cache-Control": "no-cache",
                        "X-Content-Type-Options": "nosniff",
                    ],
                    body: .bytes(bytes)
                )
            case .directory:
                candidate = resolved + "/index.html"
            case .notFound:
                return nil
            case .tooLarge:
                return Refusal.tooLarge(limit: maxFileBytes).response
            }
        }
        return nil
    }
}
