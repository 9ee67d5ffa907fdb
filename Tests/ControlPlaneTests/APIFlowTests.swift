// The REST API end to end over real sockets: our HTTP server, the router,
// the state store, the registry and a real Postgres.

import CDC
import Foundation
import HTTPServer
import PostgresTestSupport
import Testing

@testable import ControlPlane

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite struct APIFlowTests {
    /// A running API on 127.0.0.1 with its own data directory.
    final class Service: Sendable {
        let server: HTTPServer
        let registry: PipelineRegistry
        let base: String
        let directory: URL

        /// - Parameter directory: the data directory of an earlier service to
        ///   open again (a restart); a fresh one when nil.
        /// - Parameter authFailurePolicy: `serve`'s unless a test needs a
        ///   limit that does not drain while a loaded machine is slow.
        init(
            token: String? = nil, directory: URL? = nil,
            authFailurePolicy: AuthFailureLimiter.Policy = AuthFailureLimiter.Policy()
        ) throws {
            self.directory =
                directory
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID().uuidString)")
            let dataDirectory = DataDirectory(path: self.directory.path)
            let store = try SQLiteStateStore(path: self.directory.appendingPathComponent("state.sqlite").path)
            registry = PipelineRegistry(store: store, dataDirectory: dataDirectory)
            let router = APIRouter(
                store: store, registry: registry, dataDirectory: dataDirectory, token: token,
                authFailurePolicy: authFailurePolicy)
            // The dispatch and metrics of `popsink-pg serve`, with the repository's dashboard.
            let handler = ServiceHandler(router: router, files: StaticFiles(root: DashboardTests.publicFolder))
            var configuration = HTTPServerConfiguration()
            configuration.port = 0
            server = HTTPServer(configuration: configuration) { await handler.handle($0) }
            base = "http://127.0.0.1:\(try server.start())"
        }

        /// Stops the pipelines and the server; the data directory is removed unless `keepingData`.
        func stop(keepingData: Bool = false) async {
            await registry.shutdown()
            await server.shutdown()
            if !keepingData { try? FileManager.default.removeItem(at: directory) }
        }

        func call(
            _ method: String, _ path: String, json: Any? = nil, token: String? = nil
        ) async throws -> (status: Int, body: Any?, headers: [AnyHashable: Any], raw: String) {
            var request = URLRequest(url: URL(string: base + path)!)
            request.httpMethod = method
            request.timeoutInterval = 60
            if let json {
                request.httpBody = try JSONSerialization.data(withJSONObject: json)
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            // Without a token the service wants it on every request with effects, bodyless too (RequestGuard).
            if ["POST", "PUT", "DELETE", "PATCH"].contains(method) {
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = response as! HTTPURLResponse
            let body =
                data.isEmpty
                ? nil : (try? JSONSerialization.jsonObject(with: data)) ?? String(decoding: data, as: UTF8.self)
            return (http.statusCode, body, http.allHeaderFields, String(decoding: data, as: UTF8.self))
        }

        /// Registers `database` of the test cluster as a source; returns its id.
        func registerSource(_ postgres: TestPostgres, database: String) async throws -> String {
            let created = try await call(
                "POST", "/v1/sources",
                json: [
                    "name": "test", "host": postgres.host, "port": postgres.port, "database": database,
                    "user": postgres.superuser, "sslmode": "disable",
                ])
            return try #require((created.body as? [String: Any])?["id"] as? String, "\(created.raw)")
        }

        /// Pipeline `id`'s status once its state is `state`, or the last one
        /// read when that does not come in time.
        func status(_ id: String, once state: String) async throws -> [String: Any] {
            var current: [String: Any] = [:]
            _ = try await eventually {
                current = try #require(try await call("GET", "/v1/pipelines/\(id)/status").body as? [String: Any])
                return current["state"] as? String == state
            }
            return current
        }

        /// Registers `database` as a source and creates pipeline `id` on it,
        /// running, with `settings` added to the pipeline's body; returns the
        /// source's id once the PUT has answered 201.
        @discardableResult
        func runningPipeline(
            _ id: String, on postgres: TestPostgres, database: String, settings: [String: Any] = [:]
        ) async throws -> String {
            let sourceID = try await registerSource(postgres, database: database)
            let body = settings.merging(["source_id": sourceID, "desired_state": "running"]) { _, fixed in fixed }
            let put = try await call("PUT", "/v1/pipelines/\(id)", json: body)
            try #require(put.status == 201, "\(put.raw)")
            return sourceID
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func sourcePipelineEventsStatusStopDelete() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT("id int PRIMARY KEY, v text, big int8")
        let service = try Service()
        let pipelineID = "p\(database)"

        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "test", "host": postgres.host, "port": postgres.port, "database": database,
                "user": postgres.superuser, "password": "never-shown", "sslmode": "disable",
            ])
        #expect(created.status == 201)
        let source = try #require(created.body as? [String: Any])
        let sourceID = try #require(source["id"] as? String)
        #expect(source["has_password"] as? Bool == true)
        #expect(source["password"] == nil)
        let listed = try await service.call("GET", "/v1/sources")
        #expect(!"\(listed.body ?? "")".contains("never-shown"))

        let check = try await service.call("POST", "/v1/sources/\(sourceID)/check")
        #expect(check.status == 200)
        #expect((check.body as? [String: Any])?["passed"] as? Bool == true, "\(check.body ?? "")")

        let put = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: [
                "source_id": sourceID, "desired_state": "running", "filters": ["include_tables": ["public.*"]],
            ])
        #expect(put.status == 201, "\(put.body ?? "")")
        let again = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: [
                "source_id": sourceID, "desired_state": "running", "filters": ["include_tables": ["public.*"]],
            ])
        #expect(again.status == 200)

        #expect(try await LifecycleTests.waitForState(service, pipelineID, "streaming") == "streaming")
        try postgres.execute("INSERT INTO t VALUES (1, 'a', 9007199254740993), (2, 'b', NULL)", database: database)
        let page = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0&wait=20")
        var events = (page.body as? [String: Any])?["events"] as? [[String: Any]] ?? []
        // The snapshot announced t's columns (`s`, seq 1) before the two inserts.
        _ = try await eventually {
            events =
                (try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0").body as? [String: Any])?[
                    "events"] as? [[String: Any]] ?? []
            return events.count >= 3
        }
        #expect(events.map { $0["seq"] as? Int } == [1, 2, 3])
        #expect((events.first?["event"] as? [String: Any])?["op"] as? String == "s")
        #expect(
            ((events.dropFirst().first?["event"] as? [String: Any])?["after"] as? [String: Any])?["v"] as? String == "a"
        )
        // Stored events are passed through as they are: no int8 rounded through a double.
        let raw = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=1&limit=1")
        #expect(raw.raw.contains(#""big":9007199254740993"#), "\(raw.raw)")
        let next = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=3&wait=0")
        #expect(((next.body as? [String: Any])?["events"] as? [Any])?.isEmpty == true)
        #expect((next.body as? [String: Any])?["next_after"] as? Int == 3)

        let metrics = try await service.call("GET", "/metrics")
        #expect("\(metrics.body ?? "")".contains("popsink_pipeline_events_stored_total{pipeline=\"\(pipelineID)\"} 3"))

        let filters = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)/filters", json: ["exclude_tables": ["public.audit_*"]])
        #expect((filters.body as? [String: Any])?["id"] as? String == pipelineID)
        #expect(
            ((filters.body as? [String: Any])?["filters"] as? [String: Any])?["exclude_tables"] as? [String] == [
                "public.audit_*"
            ])
        let stopped = try await service.call("POST", "/v1/pipelines/\(pipelineID)/stop")
        #expect((stopped.body as? [String: Any])?["state"] as? String == "stopped")
        #expect((stopped.body as? [String: Any])?["desired_state"] as? String == "stopped")

        let inUse = try await service.call("DELETE", "/v1/sources/\(sourceID)")
        #expect(inUse.status == 409)
        let deleted = try await service.call("DELETE", "/v1/pipelines/\(pipelineID)?drop_slot=true")
        #expect(deleted.status == 204)
        let slot = PipelineConfig.defaultSlot(pipelineID: pipelineID)!
        #expect(
            try postgres.execute("SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = '\(slot)'").value(
                "n") == "0")
        #expect(try await service.call("GET", "/v1/pipelines/\(pipelineID)").status == 404)
        await service.stop()
    }

    @Test func errorsAreProblemDetailsNamingTheField() async throws {
        let service = try Service()
        let invalid = try await service.call(
            "POST", "/v1/sources",
            json: [
                "host": "h", "port": 70000, "database": "d", "user": "u", "colour": "blue",
            ])
        #expect(invalid.status == 422)
        let problem = try #require(invalid.body as? [String: Any])
        #expect(problem["status"] as? Int == 422)
        let fields = Set(((problem["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
        #expect(fields == ["name", "port", "colour"])
        let paths = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "n", "host": "h", "database": "d", "user": "u", "sslrootcert": "",
            ])
        #expect(paths.status == 422)
        let valid = try await service.call(
            "POST", "/v1/sources", json: ["name": "n", "host": "h", "database": "d", "user": "u"])
        let sourceID = try #require((valid.body as? [String: Any])?["id"] as? String)
        let nullName = try await service.call(
            "PUT", "/v1/sources/\(sourceID)",
            json: [
                "name": NSNull(), "host": "h", "database": "d", "user": "u",
            ])
        #expect(nullName.status == 422)
        #expect(
            (nullName.body as? [String: Any]).flatMap { $0["errors"] as? [[String: Any]] }?.first?["field"] as? String
                == "name")
        let ready = try await service.call("GET", "/readyz")
        #expect((ready.body as? [String: Any])?["reasons"] as? [String] == [])
        #expect(try await service.call("GET", "/v1/pipelines/nope").status == 404)
        #expect(try await service.call("PATCH", "/v1/sources").status == 405)
        let missingSource = try await service.call("PUT", "/v1/pipelines/x", json: ["source_id": "none"])
        #expect(missingSource.status == 422)
        #expect(try await service.call("GET", "/v1/pipelines/x/events?limit=0").status == 404)
        await service.stop()
    }

    @Test func bearerTokenGuardsTheAPIButNotHealth() async throws {
        let service = try Service(token: "s3cret-token")
        let denied = try await service.call("GET", "/v1/sources")
        #expect(denied.status == 401)
        #expect((denied.headers["Www-Authenticate"] ?? denied.headers["WWW-Authenticate"]) != nil)
        #expect(try await service.call("GET", "/v1/sources", token: "wrong").status == 401)
        #expect(try await service.call("GET", "/v1/sources", token: "s3cret-token").status == 200)
        #expect(try await service.call("GET", "/metrics").status == 401)
        #expect(try await service.call("GET", "/healthz").status == 200)
        #expect(try await service.call("GET", "/readyz").status == 200)
        await service.stop()
    }
}
