// The `m` event: a logical decoding message. The envelope of a change with
// no key and no images, and the message. Two kinds:
// - a DDL command of DDL capture, attributed to its table, its content
//   written from the decoded command rather than copied, so an event stays
//   one line whatever whitespace the message held:
//     "message": {"prefix":"popsink.ddl","transactional":true,
//                 "content":{"event":"ddl_command_end","tag":"ALTER TABLE","object_type":"table",
//                            "schema":"public","table":"t","identity":"public.t","sql":"ALTER TABLE …"}}
// - a message of the user's (`MessageFilter`), of no table (`source.schema`
//   and `source.table` null), its content as text when it is UTF-8, else
//   as base64:
//     "message": {"prefix":"app.audit","transactional":false,"content":"…","encoding":"text"}

import PgOutput
import PostgresWire

extension EventEncoder {
    /// The `m` event of `message`, which carried `command`, attributed to `schema`'s table.
    mutating func message(
        _ message: LogicalMessage, command: DDLCommand, schema: TableSchema, transaction: TransactionContext,
        lsn: LSN, ordinal: Int32
    ) -> [UInt8] {
        messageEvent(
            message, content: .command(command), tableMembers: schema.tableMembers, transaction: transaction, lsn: lsn,
            ordinal: ordinal)
    }

    /// The `m` event of a message of the user's, at its own LSN.
    mutating func message(_ message: LogicalMessage, transaction: TransactionContext, ordinal: Int32) -> [UInt8] {
        messageEvent(
            message, content: .payload, tableMembers: Self.noTableMembers, transaction: transaction, lsn: message.lsn,
            ordinal: ordinal)
    }

    /// The source block's table members of an event of no table.
    static let noTableMembers = Array(#""schema":null,"table":null,"#.utf8)

    /// The envelope an `m` or `s` event shares: `begin`, then no key and no images.
    mutating func beginWithoutImages(
        _ operation: Operation, tableMembers: [UInt8], transaction: TransactionContext, lsn: LSN, ordinal: Int32
    ) {
        begin(operation, tableMembers: tableMembers, transaction: transaction, lsn: lsn, ordinal: ordinal)
        writer.fragment(Self.emptyImages, endsValue: true)
    }

    /// What an `m` event's `content` holds.
    private enum MessageContent {
        /// The DDL command decoded from the message.
        case command(DDLCommand)
        /// The message's own bytes, with their `encoding`.
        case payload
    }

    private mutating func messageEvent(
        _ message: LogicalMessage, content: MessageContent, tableMembers: [UInt8], transaction: TransactionContext,
        lsn: LSN, ordinal: Int32
    ) -> [UInt8] {
        beginWithoutImages(.message, tableMembers: tableMembers, transaction: transaction, lsn: lsn, ordinal: ordinal)
        writer.key("message")
        writer.beginObject()
        writer.key("prefix")
        writer.string(message.prefix)
        writer.key("transactional")
        writer.bool(message.transactional)
        writer.key("content")
        switch content {
        case .command(let command):
            write(command)
        case .payload:
            let isText = String(validating: message.content, as: UTF8.self) != nil
            if isText { writer.string(utf8: message.content) } else { writer.base64String(message.content) }
            writer.key("encoding")
            writer.string(isText ? "text" : "base64")
        }
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }

    private mutating func write(_ command: DDLCommand) {
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
    }

    private mutating func optional(_ value: String?) {
        if let value { writer.string(value) } else { writer.null() }
    }
}
