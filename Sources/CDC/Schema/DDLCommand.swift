// One DDL command as DDL capture's event trigger writes it into the WAL
// (`DDLCapture`): the command tag, the table it touched, the statement, and
// for `ddl_command_end` the table's column list and key right after it.
// Anyone may call pg_logical_emit_message with our prefix, so content that
// does not decode is ignored rather than trusted.

import Foundation
import PgOutput

struct DDLCommand: Decodable, Equatable {
    struct Column: Decodable, Equatable {
        var name: String
        var typeOID: UInt32
        var typeModifier: Int32
        var type: String
        var nullable: Bool?
        var `default`: String?
        /// `pg_attribute.attnum`; absent from messages of triggers installed before it was added.
        var attnum: Int16?

        enum CodingKeys: String, CodingKey {
            case name, type, nullable, `default`, attnum
            case typeOID = "type_oid"
            case typeModifier = "type_modifier"
        }
    }

    /// `ddl_command_end`, or `sql_drop` for a dropped table.
    var event: String
    /// The command tag: `ALTER TABLE`, `CREATE TABLE`, `DROP TABLE`.
    var tag: String
    var objectType: String?
    var schema: String
    var table: String
    /// The object's identity as Postgres quotes it: `public."Orders"`.
    var identity: String?
    /// The table's `pg_class` OID.
    var oid: UInt32
    /// The statement the command came from (the whole top-level query).
    var sql: String?
    /// After the command; absent for a drop.
    var columns: [Column]?
    var key: [String]?

    enum CodingKeys: String, CodingKey {
        case event, tag, schema, table, identity, oid, sql, columns, key
        case objectType = "object_type"
    }

    var isTableDrop: Bool { event == "sql_drop" }

    /// The message's content, or nil when it is not a command of ours.
    init?(content: ArraySlice<UInt8>) {
        guard let command = try? JSONDecoder().decode(DDLCommand.self, from: Data(content)) else { return nil }
        guard command.isTableDrop || command.columns != nil else { return nil }
        self = command
    }

    /// The table as the command left it, shaped like a resolved Relation.
    func tableSchema(version: Int) -> TableSchema {
        let columns = columns ?? []
        let key = key ?? []
        let relation = Relation(
            oid: oid, namespace: schema, name: table, replicaIdentity: .full,
            columns: columns.map {
                Relation.Column(
                    isKey: key.contains($0.name), name: $0.name, typeOID: $0.typeOID, typeModifier: $0.typeModifier)
            })
        return TableSchema(
            relation: relation, kinds: [], keyColumns: key, isCaptured: true,
            columnFacts: columns.map {
                CatalogLookup.ColumnFacts(
                    typeName: $0.type, isNullable: $0.nullable, defaultExpression: $0.default, attnum: $0.attnum)
            },
            schemaVersion: version)
    }
}
