// The static-file responder on its own: content types, index files, and every way
// of naming something outside the folder.
import Foundation
import Testing

@testable import HTTPServer

@Suite("Static files")
struct StaticFilesTests {
    /// `root/` holds the site; `outside/` a secret next to it.
    private func withSite(_ body: (StaticFiles) throws -> Void) throws {
        let outside = try TempFolder()
        outside.file("secret.txt", "secret")
        let root = try TempFolder()
        root.file("index.html", "<h1>home</h1>")
        root.file("app.js", "console.log(1)")
        root.file("style.css", "body{}")
        root.file("data.json", "{}")
        root.file("logo.svg", "<svg/>")
        root.file("icon.png", "png")
        root.file("favicon.ico", "ico")
        root.file("notes.txt", "notes")
        root.file("blob.bin", "bin")
        root.file(".env", "PASSWORD=x")
        root.folder("sub")
        root.file("sub/index.html", "<h1>sub</h1>")
        root.file("sub/a b.txt", "spaced")
        root.symlink("inside-link.txt", to: "\(root.path)/notes.txt")
        root.symlink("outside-link.txt", to: "\(outside.path)/secret.txt")
        root.symlink("outside-folder", to: outside.path)
        root.symlink("passwd", to: "/etc/passwd")
        defer {
            root.remove()
            outside.remove()
        }
        try body(StaticFiles(root: root.path))
    }

    private func get(_ files: StaticFiles, _ target: String, method: String = "GET") -> HTTPResponse? {
        files.lookUp(HTTPRequest(method: method, target: target))
    }

    private func body(_ response: HTTPResponse?) -> String? {
        guard case .bytes(let bytes) = response?.body else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A refusal is a problem document like every other error of the server,
    /// and its detail names no path of the file system.
    private func expectProblem(
        _ response: HTTPResponse?, status: Int, files: StaticFiles, _ target: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response?.status == status, "\(target)", sourceLocation: sourceLocation)
        #expect(
            response?.headers["Content-Type"] == "application/problem+json", "\(target)", sourceLocation: sourceLocation
        )
        let text = body(response) ?? ""
        let problem = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        #expect(problem["status"] as? Int == status, "\(target): \(text)", sourceLocation: sourceLocation)
        #expect(problem["type"] as? String == "about:blank", "\(target): \(text)", sourceLocation: sourceLocation)
        let detail = problem["detail"] as? String ?? ""
        #expect(detail.count > 20, "\(target): \(text)", sourceLocation: sourceLocation)
        for leak in [files.root, "/tmp", "/etc", "secret", "root:"] {
            #expect(!text.contains(leak), "\(target) leaks \(leak): \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func servesFilesWithTheirContentTypes() throws {
        try withSite { files in
            let expected = [
                "/index.html": "text/html; charset=utf-8", "/app.js": "text/javascript; charset=utf-8",
                "/style.css": "text/css; charset=utf-8", "/data.json": "application/json", "/logo.svg": "image/svg+xml",
                "/icon.png": "image/png", "/favicon.ico": "image/x-icon", "/notes.txt": "text/plain; charset=utf-8",
                "/blob.bin": "application/octet-stream",
            ]
            for (path, type) in expected {
                let response = get(files, path)
                #expect(response?.status == 200, "\(path)")
                #expect(response?.headers["Content-Type"] == type, "\(path)")
            }
            #expect(get(files, "/app.js")?.headers["X-Content-Type-Options"] == "nosniff")
        }
    }

    @Test func indexFiles() throws {
        try withSite { files in
            #expect(body(get(files, "/")) == "<h1>home</h1>")
            #expect(body(get(files, "/?v=2")) == "<h1>home</h1>")
            #expect(body(get(files, "/sub/")) == "<h1>sub</h1>")
            #expect(body(get(files, "/sub")) == "<h1>sub</h1>")
            #expect(body(get(files, "/sub/a%20b.txt")) == "spaced")
        }
    }

    /// The public entry point reads on the worker thread and gives the same answers.
    @Test func asyncResponseUsesTheWorker() async throws {
        let root = try TempFolder()
        root.file("index.html", "home")
        defer { root.remove() }
        let files = StaticFiles(root: root.path)
        let responses = await withTaskGroup(of: Int?.self) { group in
            for target in ["/", "/index.html", "/missing", "/%2e%2e/x"] {
                group.addTask { await files.response(for: HTTPRequest(method: "GET", target: target))?.status }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(responses.compactMap { $0 }.sorted() == [200, 200, 404])
        #expect(responses.count == 4)
        #expect(await files.response(for: HTTPRequest(method: "POST", target: "/")) == nil)
    }

    @Test func onlyGetAndHead() throws {
        try withSite { files in
            #expect(get(files, "/index.html", method: "HEAD")?.status == 200)
            #expect(get(files, "/index.html", method: "POST") == nil)
            #expect(get(files, "/index.html", method: "DELETE") == nil)
        }
    }

    @Test func missingFilesAreLeftToTheCaller() throws {
        try withSite { files in
            #expect(get(files, "/nope.html") == nil)
            #expect(get(files, "/sub/nope/") == nil)
        }
        #expect(StaticFiles(root: "/nonexistent/folder").lookUp(HTTPRequest(method: "GET", target: "/")) == nil)
    }

    @Test(arguments: [
        "/../etc/passwd", "/sub/../../etc/passwd", "/%2e%2e/etc/passwd", "/%2E%2E/%2e%2e/etc/passwd",
        "/.%2e/etc/passwd",
        "/sub/%2e%2e/%2e%2e/etc/passwd", "/a%2fb", "/sub%2findex.html", "/..%2fetc%2fpasswd", "/a%5cb",
        "/..%5c..%5cetc",
        "/index.html%00.png", "/%00", "/.env", "/./index.html", "/outside-link.txt", "/outside-folder/secret.txt",
        "/passwd",
    ])
    func traversalIsRefused(_ target: String) throws {
        try withSite { files in
            expectProblem(get(files, target), status: 404, files: files, target)
        }
    }

    @Test func malformedEscapeIs400() throws {
        try withSite { files in
            expectProblem(get(files, "/%zz"), status: 400, files: files, "/%zz")
            #expect(body(get(files, "/%zz"))?.contains("percent-escape") == true)
            expectProblem(get(files, "/%c3%28"), status: 404, files: files, "/%c3%28")  // not UTF-8
        }
    }

    /// Says why, so that whoever put the link or the file there can fix it.
    @Test func refusalsSayWhatToChange() throws {
        try withSite { files in
            #expect(body(get(files, "/outside-link.txt"))?.contains("symbolic link to outside") == true)
            #expect(body(get(files, "/.env"))?.contains("hidden name") == true)
        }
    }

    @Test func fileOverTheLimitIs500WithTheLimit() throws {
        let root = try TempFolder()
        root.file("big.txt", String(repeating: "x", count: 100))
        defer { root.remove() }
        var files = StaticFiles(root: root.path)
        files.maxFileBytes = 64
        let response = get(files, "/big.txt")
        expectProblem(response, status: 500, files: files, "/big.txt")
        #expect(body(response)?.contains("over 64 bytes") == true)
    }

    @Test func symlinkInsideTheFolderIsServed() throws {
        try withSite { files in
            #expect(body(get(files, "/inside-link.txt")) == "notes")
        }
    }
}
