// The static-file responder behind a live server, with traversal attempts sent
// raw (a real client would normalise them away) and refused as problem details.
import HTTPServer
import Testing

@Suite("Live: static files")
struct LiveStaticFilesTests {
    @Test func servesTheFolderAndNothingOutsideIt() async throws {
        let outside = try TempFolder()
        outside.file("secret.txt", "top secret")
        let root = try TempFolder()
        root.file("index.html", "<h1>dashboard</h1>")
        root.file("app.js", "let x = 1")
        root.symlink("escape.txt", to: "\(outside.path)/secret.txt")
        defer {
            root.remove()
            outside.remove()
        }
        let files = StaticFiles(root: root.path)
        let handler: HTTPHandler = { request in await files.response(for: request) ?? .text("no route\n", status: 404) }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send(rawRequest("GET", "/"))
            let index = try await client.readResponse()
            #expect(index.status == 200)
            #expect(index.text == "<h1>dashboard</h1>")
            #expect(index.headers["Content-Type"] == "text/html; charset=utf-8")

            try await client.send(rawRequest("HEAD", "/app.js"))
            let head = try await client.readResponse(head: true)
            #expect(head.headers["Content-Length"] == "9")
            #expect(head.headers["Content-Type"] == "text/javascript; charset=utf-8")

            for target in [
                "/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a%2fb", "/escape.txt", "/..%2f..%2fetc%2fpasswd",
            ] {
                try await client.send(rawRequest("GET", target))
                let response = try await client.readResponse()
                expectProblem(response, status: 404, detail: "No file is served")
                #expect(!response.text.contains("secret") && !response.text.contains("root:"), "\(target)")
                #expect(!response.text.contains(root.path) && !response.text.contains(outside.path), "\(target)")
            }
        }
    }
}
