// The `m` event: a logical decoding message, today the DDL commands of DDL
// capture. The envelope of a change with no key and no images, and the
// message:
//   "message": {"prefix":"popsink.ddl","transactional":true,
//               "content":{"event":"ddl_command_end","tag":"ALTER TABLE","object_type":"table",
//                          "schema":"public","table":"t","identity":"public.t","sql":"ALTER TABLE …"}}
// The content is written from the decoded command rather than copied, so an
// event stays one line whatever whitespace the message held.

import PgOutput
import PostgresWire

extension EventEncoder {
    /// The `m` event of `message`, which carried `command`, attributed to `schema`'s table.
    mutating func message(
        _ message: LogicalMessage, command: DDLCommand, schema: TableSchema, transaction: TransactionContext,
        lsn: LSN, ordinal: Int32
    ) -> [UInt8] {
        begin(.message, schema: schema, transaction: transaction, lsn: lsn, ordinal: ordinal)
        writer.fragment(Self.emptyImages, endsValue: true)
        writer.key("message")
        writer.beginObject()
        writer.key("prefix")
        writer.string(message.prefix)
        writer.key("transactional")
        writer.bool(message.transactional)
        writer.key("content")
        writer.beginObject()
        writer.key("event")
        writer.string(command.event)
        writer.key("tag")
        writer.string(command.tag)
        writer.key("object_type")
        optional(command.objectType)
        writer.key("schema")
        writer.string(command.schema)
        writer.key("table")
        writer.string(command.table)
        writer.key("identity")
        optional(command.identity)
        writer.key("sql")
        optional(command.sql)
        writer.endObject()
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }

    private mutating func optional(_ value: String?) {
        if let value { writer.string(value) } else { writer.null() }
    }
}
