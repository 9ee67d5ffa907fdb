// The dashboard in Public/ as `popsink-pg serve` serves it: static files at
// `/`, the API under `/v1`, on one server.

import CDC
import ControlPlane
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPServer
import Testing

@Suite struct DashboardTests {
    /// The repository's Public/ folder (through the symlink, when the tests are built from a link farm).
    static let publicFolder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Public").path

    @Test func indexAndAssetsAreServedBesideTheAPI() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataDirectory = DataDirectory(path: directory.path)
        let store = try SQLiteStateStore(path: directory.appendingPathComponent("state.sqlite").path)
        let registry = PipelineRegistry(store: store, dataDirectory: dataDirectory)
        let router = APIRouter(store: store, registry: registry, dataDirectory: dataDirectory, token: nil)
        let files = StaticFiles(root: Self.publicFolder)
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        // The same dispatch as ServeCommand: the API first, then files, then the API's 404.
        let server = HTTPServer(configuration: configuration) { request in
            if request.path.hasPrefix("/v1") { return await router.handle(request) }
            if let file = await files.response(for: request) { return file }
            return await router.handle(request)
        }
        let base = "http://127.0.0.1:\(try server.start())"

        func get(_ path: String) async throws -> (status: Int, type: String, text: String) {
            var request = URLRequest(url: URL(string: base + path)!)
            request.timeoutInterval = 60
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = response as! HTTPURLResponse
            return (http.statusCode, http.value(forHTTPHeaderField: "Content-Type") ?? "", String(decoding: data, as: UTF8.self))
        }
        let index = try await get("/")
        #expect(index.status == 200)
        #expect(index.type.hasPrefix("text/html"))
        #expect(index.text.contains("<title>popsink-pg</title>"))
        // Every asset the page links to is served, none from another origin.
        #expect(!index.text.contains("http://") && !index.text.contains("https://"))
        let script = try await get("/app.js")
        #expect(script.status == 200)
        #expect(script.type.hasPrefix("text/javascript"))
        #expect(script.text.contains("/events/stream"))
        let style = try await get("/style.css")
        #expect(style.status == 200)
        #expect(style.type.hasPrefix("text/css"))
        #expect(try await get("/v1/sources").text == "[]")
        await registry.shutdown()
        await server.shutdown()
    }
}
