// GET /v1/sources/{id}/tables: what capture needs to know about each table of
// a source (primary key, replica identity, publication membership, size
// estimate), read from the catalogs.

import Foundation
import HTTPServer
import PostgresReplication

enum SourceTables {
    /// One row per ordinary or partitioned table outside the system schemas
    /// (PostgreSQL docs, "pg_class", "pg_index", "pg_publication_tables").
    /// A partitioned table counts as published when it is named by the
    /// publication even if only its partitions appear in `pg_publication_tables`
    /// (`publish_via_partition_root = false`). `reltuples` is -1 before the
    /// first ANALYZE on PostgreSQL 14 and later.
    static let tablesQuery = """
        WITH published AS (
            SELECT c.oid AS relid
            FROM pg_publication_tables pt
            JOIN pg_namespace n ON n.nspname = pt.schemaname
            JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
            WHERE pt.pubname = $1
            UNION
            SELECT pr.prrelid FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
            WHERE p.pubname = $1
        )
        SELECT n.nspname AS schema_name, c.relname AS table_name,
               c.relreplident::text AS identity,
               GREATEST(c.reltuples, 0)::int8 AS estimated_rows,
               c.oid IN (SELECT relid FROM published) AS in_publication,
               COALESCE((
                   SELECT json_agg(a.attname::text ORDER BY k.position)
                   FROM pg_index i
                   CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                   WHERE i.indrelid = c.oid AND i.indisprimary
               ), '[]'::json)::text AS primary_key
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
        ORDER BY n.nspname, c.relname
        """

    static func respond(_ context: APIContext, _ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        guard case .sourceTables(let id) = route else { throw Problem.notFound("no route for \(request.path)") }
        let source = try await context.source(id)
        let publication = request.queryValue("publication") ?? "popsink"
        guard (1...63).contains(publication.utf8.count) else {
            throw Problem.invalid([("publication", "must be 1 to 63 bytes")])
        }
        let settings = try context.credentials.settings(for: source)
        let result: QueryResult
        do throws(PostgresError) {
            result = try await PostgresConnection.query(
                settings: settings, applicationName: "popsink-pg api", tablesQuery, [publication])
        } catch {
            throw Problem.sourceUnavailable(error)
        }
        return Respond.json(try result.rows.map { try table(row: $0, columns: result.columns) })
    }

    /// One `SourceTable` of openapi.yaml.
    private static func table(row: [String?], columns: [String]) throws -> JSON {
        func value(_ name: String) -> String? { columns.firstIndex(of: name).flatMap { row[$0] } }
        let identities = ["d": "default", "n": "nothing", "f": "full", "i": "index"]
        let keyText = value("primary_key") ?? "[]"
        guard let key = try JSONSerialization.jsonObject(with: Data(keyText.utf8)) as? [String] else {
            throw Problem(status: 500, title: "Internal Server Error", detail: "unexpected primary key list \(keyText)")
        }
        return [
            "schema": value("schema_name") ?? "", "table": value("table_name") ?? "",
            "primary_key": key,
            "replica_identity": identities[value("identity") ?? "d"] ?? "default",
            "in_publication": value("in_publication") == "t",
            "estimated_rows": Int64(value("estimated_rows") ?? "0") ?? 0,
        ]
    }
}
