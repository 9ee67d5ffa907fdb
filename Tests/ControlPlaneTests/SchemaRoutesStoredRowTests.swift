// The schema routes write each stored version again with the `s` event's
// writer rather than passing the stored JSON on: a row stored before
// `nullable` and `default` were recorded comes out with both null, and what
// the store keeps for itself (`attnum`) is not shown.

import CDC
import EventStore
import Foundation
import PostgresWire
import Testing

@Suite struct SchemaRoutesStoredRowTests {
    typealias Service = APIFlowTests.Service

    @Test func anOldRowComesOutWithNullsAndNoInternalMembers() async throws {
        let service = try Service()
        let source = try await service.call(
            "POST", "/v1/sources", json: ["name": "n", "host": "h", "database": "d", "user": "u"])
        let sourceID = try #require((source.body as? [String: Any])?["id"] as? String)
        #expect(try await service.call("PUT", "/v1/pipelines/old", json: ["source_id": sourceID]).status == 201)

        let path = DataDirectory(path: service.directory.path).eventStorePath(pipelineID: "old")
        let store = try EventStoreWriter(path: path)
        try store.beginGroup()
        try store.addTableSchema(
            StoredTableSchema(
                schema: "public", table: "t", version: 1, relationOID: 16_384, lsn: LSN(0x100), commitLSN: LSN(0x100),
                columns: #"[{"key":true,"name":"id","type":"integer","type_modifier":-1,"type_oid":23}]"#,
                change: nil))
        try store.addTableSchema(
            StoredTableSchema(
                schema: "public", table: "t", version: 2, relationOID: 16_384, lsn: LSN(0x200), commitLSN: LSN(0x200),
                columns:
                    #"[{"key":true,"name":"id","type":"integer","type_modifier":-1,"type_oid":23,"attnum":1},{"key":false,"name":"v","type":"text","type_modifier":-1,"type_oid":25,"nullable":true,"default":"'x'::text","attnum":2}]"#,
                change:
                    #"{"added":[{"key":false,"name":"v","type":"text","type_modifier":-1,"type_oid":25}],"dropped":[],"key_changed":null,"previous_version":1,"renamed":[],"retyped":[]}"#
            ))
        _ = try store.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x200), flushLSN: LSN(0x228)))
        store.close()

        let history = try await service.call("GET", "/v1/pipelines/old/schemas/public.t")
        #expect(history.status == 200, "\(history.raw)")
        let versions = try #require((history.body as? [String: Any])?["versions"] as? [[String: Any]], "\(history.raw)")
        let first = try #require((versions.first?["columns"] as? [[String: Any]])?.first)
        #expect(first["nullable"] is NSNull && first["default"] is NSNull, "\(history.raw)")
        #expect(first.keys.sorted() == ["default", "key", "name", "nullable", "type", "type_modifier", "type_oid"])
        let second = try #require(versions.last?["columns"] as? [[String: Any]])
        #expect(second.last?["default"] as? String == "'x'::text" && second.last?["nullable"] as? Bool == true)
        #expect(!history.raw.contains("attnum"), "\(history.raw)")
        let added = try #require(((versions.last?["change"] as? [String: Any])?["added"] as? [[String: Any]])?.first)
        #expect(added["nullable"] is NSNull && added["default"] is NSNull, "\(history.raw)")
        await service.stop()
    }
}
