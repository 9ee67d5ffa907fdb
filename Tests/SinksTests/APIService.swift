// The service as `popsink-pg serve` runs it, in process on a random
// loopback port with its own data directory: for the sinks of the API.

import CDC
import ControlPlane
import Foundation
import HTTPServer
import PostgresTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

final class APIService: Sendable {
    let server: HTTPServer
    let registry: PipelineRegistry
    let base: String
    let directory: URL

    static let publicFolder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Public").path

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sinks-api-\(UUID().uuidString)")
        let dataDirectory = DataDirectory(path: directory.path)
        let store = try SQLiteStateStore(path: directory.appendingPathComponent("state.sqlite").path)
        registry = PipelineRegistry(store: store, dataDirectory: dataDirectory)
        let router = APIRouter(store: store, registry: registry, dataDirectory: dataDirectory, token: nil)
        let handler = ServiceHandler(router: router, files: StaticFiles(root: Self.publicFolder))
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        server = HTTPServer(configuration: configuration) { await handler.handle($0) }
        base = "http://127.0.0.1:\(try server.start())"
    }

    func stop() async {
        await registry.shutdown()
        await server.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    struct Reply {
        let status: Int
        let body: Any?
        let raw: String
        var object: [String: Any] { body as? [String: Any] ?? [:] }
    }

    func call(_ method: String, _ path: String, json: Any? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let json { request.httpBody = try JSONSerialization.data(withJSONObject: json) }
        if json != nil || ["POST", "PUT", "DELETE"].contains(method) {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as! HTTPURLResponse).statusCode
        return Reply(
            status: status, body: try? JSONSerialization.jsonObject(with: data),
            raw: String(decoding: data, as: UTF8.self))
    }

    func registerSource(_ postgres: TestPostgres, database: String) async throws -> String {
        let created = try await call(
            "POST", "/v1/sources",
            json: [
                "name": "test", "host": postgres.host, "port": postgres.port, "database": database,
                "user": postgres.superuser, "sslmode": "disable",
            ])
        return try #require(created.object["id"] as? String, "\(created.raw)")
    }

    /// Polls `condition` every 100 ms for up to `seconds`.
    func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}
