// /v1/sources/{id}/ddl-capture: installs (POST), reports (GET) or removes
// (DELETE) the event trigger that writes each DDL command of the source's
// database into the WAL (`DDLCapture`), so pipelines see schema changes in
// commit order even when no row change follows. Creating an event trigger
// needs a superuser: for any other role the answer is a 403 that carries the
// SQL for a superuser to run.

import Blocking
import CDC
import HTTPServer
import PostgresReplication

struct DDLCaptureRoutes: Sendable {
    let context: APIContext

    func respond(_ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        guard case .sourceDDLCapture(let id) = route else { throw Problem.notFound("no route for \(request.path)") }
        let source = try await context.source(id)
        let settings = source.connectionSettings
        switch request.method {
        case "GET", "HEAD":
            let installed = try await run(settings) { (connection) throws(PostgresError) in
                try DDLCapture.isInstalled(on: connection)
            }
            return Respond.json(Self.status(installed: installed))
        case "POST":
            do {
                try await run(settings) { (connection) throws(PostgresError) in try DDLCapture.install(on: connection) }
            } catch let error as PostgresError where error.sqlState == "42501" {
                throw Self.refused(error, sql: DDLCapture.installSQL)
            }
            return Respond.json(Self.status(installed: true))
        case "DELETE":
            do {
                try await run(settings) { (connection) throws(PostgresError) in try DDLCapture.uninstall(on: connection)
                }
            } catch let error as PostgresError where error.sqlState == "42501" {
                throw Self.refused(error, sql: DDLCapture.uninstallSQL)
            }
            return Respond.json(Self.status(installed: false))
        default:
            throw Respond.methodNotAllowed(["GET", "POST", "DELETE"])
        }
    }

    /// Runs `body` on a fresh SQL session of the source, off the cooperative pool.
    private func run<T: Sendable>(
        _ settings: ConnectionSettings, _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T
    ) async throws -> T {
        let result: Result<T, PostgresError> = await Blocking.run {
            Result { () throws(PostgresError) in
                let connection = try PostgresConnection(
                    settings: settings, mode: .sql, applicationName: "popsink-pg ddl-capture")
                return try body(connection)
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(let error) where error.sqlState == "42501": throw error
        case .failure(let error): throw Problem.sourceUnavailable(error)
        }
    }

    static func status(installed: Bool) -> JSON {
        .object([
            ("installed", .bool(installed)), ("prefix", .string(DDLCapture.prefix)),
            ("function", .string(DDLCapture.functionName)),
            ("triggers", .array(DDLCapture.triggerNames.map { .string($0) })),
        ])
    }

    /// 403 with the SQL a superuser can run instead.
    static func refused(_ error: PostgresError, sql: String) -> Problem {
        var problem = Problem(
            status: 403, title: "Forbidden",
            detail:
                "the source's role may not create or drop event triggers (\(error.message)); only a superuser may: run the SQL in `sql` as one",
            type: "urn:popsink:problem:ddl-capture-forbidden")
        problem.extensions = [("sql", .string(sql)), ("sqlstate", error.sqlState.json)]
        return problem
    }
}
