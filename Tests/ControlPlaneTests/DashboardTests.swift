// The dashboard in Public/ as `popsink-pg serve` serves it: static files at
// `/`, the API under `/v1`, on one server.

import CDC
import Foundation
import HTTPServer
import Sinks
import Testing

@testable import ControlPlane

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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
        let handler = ServiceHandler(router: router, files: StaticFiles(root: Self.publicFolder))
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration) { await handler.handle($0) }
        let base = "http://127.0.0.1:\(try server.start())"

        func get(_ path: String) async throws -> (status: Int, type: String, text: String) {
            var request = URLRequest(url: URL(string: base + path)!)
            request.timeoutInterval = 60
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = response as! HTTPURLResponse
            return (
                http.statusCode, http.value(forHTTPHeaderField: "Content-Type") ?? "",
                String(decoding: data, as: UTF8.self)
            )
        }
        let index = try await get("/")
        #expect(index.status == 200)
        #expect(index.type.hasPrefix("text/html"))
        #expect(index.text.contains("<title>popsink-pg</title>"))
        // Every asset the page links to is served, none from another origin.
        #expect(!index.text.contains("http://") && !index.text.contains("https://"))
        for path in ["/app.js", "/js/api.js", "/js/event-stream.js"] {
            let script = try await get(path)
            #expect(script.status == 200, "\(path)")
            #expect(script.type.hasPrefix("text/javascript"), "\(path): \(script.type)")
        }
        // Browsers ask for /favicon.ico whatever the page links: it must not be a 404 in their console.
        let icon = try await get("/favicon.ico")
        #expect(icon.status == 200)
        #expect(icon.type == "image/x-icon")
        #expect(index.text.contains("favicon.svg"))
        #expect(try await get("/favicon.svg").status == 200)
        let style = try await get("/style.css")
        #expect(style.status == 200)
        #expect(style.type.hasPrefix("text/css"))
        #expect(try await get("/v1/sources").text == "[]")
        // Errors beside the files are problem details like the API's, and name no path of the server's disk.
        for path in ["/.env", "/missing.js"] {
            let error = try await get(path)
            #expect(error.status == 404, "\(path)")
            #expect(error.type == "application/problem+json", "\(path): \(error.type)")
            let problem = try JSONSerialization.jsonObject(with: Data(error.text.utf8)) as? [String: Any]
            #expect(problem?["status"] as? Int == error.status, "\(path): \(error.text)")
            #expect((problem?["detail"] as? String)?.isEmpty == false, "\(path): \(error.text)")
            #expect(!error.text.contains(Self.publicFolder), "\(path): \(error.text)")
        }
        await registry.shutdown()
        await server.shutdown()
    }

    /// Every script of the console (app.js and the modules under js/), without its comments and
    /// with its double-quoted strings emptied: a field name in a comment or a form field's name
    /// (`"snapshot.workers"`) is not a read.
    static func consoleCode() throws -> String {
        let modules = try FileManager.default.contentsOfDirectory(atPath: publicFolder + "/js")
            .filter { $0.hasSuffix(".js") }
        let code = try (["app.js"] + modules.sorted().map { "js/\($0)" })
            .map { try String(contentsOfFile: publicFolder + "/" + $0, encoding: .utf8) }
            .joined(separator: "\n")
        return
            code
            .replacing(try Regex(#"/\*[\s\S]*?\*/"#), with: "")
            .replacing(try Regex(#"(?m)^\s*//.*$"#), with: "")
            .replacing(try Regex(#""(?:[^"\\\n]|\\.)*""#), with: "\"\"")
    }

    /// Every field the console reads from a status, source or pipeline (`status.lag_bytes`,
    /// `slot.wal_status`, `table.rows_done`, …) is one the API writes, at that level:
    /// renaming a field in the API without the console (or back) fails here, before
    /// the browser test (BrowserConsoleTests) would show it as a blank on the page.
    @Test func everyFieldTheDashboardReadsIsOneTheAPIWrites() throws {
        let script = try Self.consoleCode()
        var status = PipelineStatus()
        status.state = .snapshotting
        status.lastError = PipelineError(.connectionLost, "server closed the connection", retryable: true)
        status.commitToDurable.observe(milliseconds: 3)
        status.slot = SlotHealth(walStatus: "reserved", retainedBytes: 4096, safeWALBytes: nil)
        status.snapshot = [
            TableSnapshotProgress(schema: "public", table: "t", state: .loading, rowsDone: 1, estimatedRows: 9)
        ]
        let now = Timestamps.now()
        let record = PipelineRecord(id: "p", sourceID: "s", createdAt: now, updatedAt: now)
        let source = SourceRecord(id: "s", host: "h", database: "d", user: "u", createdAt: now, updatedAt: now)
        func object(_ json: JSON) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any])
        }
        var followed = record
        followed.sinks = [
            SinkConfig(name: "hook", target: .webhook(WebhookSettings(url: "http://127.0.0.1:9/h", secret: "s")))
        ]
        // Consumers are read through `consumer`, checked live by the browser test.
        let followers = StoreFollowers(lastSequence: 9)
        let followedStatus = try object(
            Representation.status(
                status, record: followed, sinks: [SinkStatus(name: "hook", type: "webhook")], followers: followers))
        let statusObject = try object(Representation.status(status, record: record))
        let snapshot = try #require(statusObject["snapshot"] as? [String: Any])
        // The JavaScript variable each object is read through.
        let readers: [String: [String: Any]] = [
            "status": statusObject,
            "latency": try #require(statusObject["commit_to_durable_ms"] as? [String: Any]),
            "error": try #require(statusObject["last_error"] as? [String: Any]),
            "slot": try #require(statusObject["slot"] as? [String: Any]),
            "snapshot": snapshot,
            "table": try #require((snapshot["tables"] as? [[String: Any]])?.first),
            "source": try object(Representation.source(source)),
            "pipeline": try object(Representation.pipeline(record, state: .created)),
            "sinkStatus": try #require((followedStatus["sinks"] as? [[String: Any]])?.first),
            "retention": try #require(
                try object(Representation.pipeline(record, state: .created))["retention"] as? [String: Any]),
        ]
        for (variable, fields) in readers {
            let pattern = try Regex(#"\b\#(variable)\.([a-z_]+)\b"#)
            let read = Set(script.matches(of: pattern).compactMap { $0.output[1].substring.map(String.init) })
            #expect(!read.isEmpty, "the console reads nothing through `\(variable)`")
            // The console also reads a pipeline's `initial_load`, the older form
            // of `snapshot.enabled`, only when `snapshot.enabled` is absent.
            let olderForms: Set<String> = variable == "pipeline" ? ["initial_load"] : []
            let missing = read.subtracting(fields.keys).subtracting(olderForms)
            #expect(missing.isEmpty, "the console reads \(variable).\(missing.sorted()) which the API does not write")
        }
        for op in ["c", "u", "d", "t", "r"] {
            #expect((statusObject["events_by_op"] as? [String: Any])?[op] != nil)
            #expect(script.contains("\(op): \""), "the console names op \(op)")
        }
    }
}
