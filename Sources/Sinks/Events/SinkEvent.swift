// One stored event as a sink sends it: the body byte for byte, plus the few
// members targets route by (table, key) and put in headers (id, op, schema
// version), read from the JSON without decoding the rest.

import EventStore

/// An event on its way to a target.
public struct SinkEvent: Sendable, Hashable {
    /// The store's sequence: the order every target keeps.
    public let sequence: Int64
    /// `<commit LSN>:<ordinal>`, the event's id (DESIGN §5); `Nats-Msg-Id` and the Kafka `popsink-event-id` header.
    public let id: EventID
    /// `c`, `u`, `d`, `t`, `r`, `s`, `m`.
    public let op: String
    /// The table's schema and name; nil for an event that belongs to no table (a logical message).
    public let schema: String?
    public let table: String?
    public let schemaVersion: Int?
    /// The `key` member's JSON text (`{"id":1}`), nil when the event has no row key.
    public let key: [UInt8]?
    /// The JSON event, as stored.
    public let body: [UInt8]

    public init(
        sequence: Int64, id: EventID, op: String, schema: String?, table: String?, schemaVersion: Int?,
        key: [UInt8]?, body: [UInt8]
    ) {
        self.sequence = sequence
        self.id = id
        self.op = op
        self.schema = schema
        self.table = table
        self.schemaVersion = schemaVersion
        self.key = key
        self.body = body
    }

    /// Reads the routing members out of a stored event; throws `.store` when
    /// the body is not an event's JSON object.
    public init(_ stored: StoredEvent) throws(SinkError) {
        let fields: EventFields
        do {
            fields = try EventFields(json: stored.body)
        } catch {
            throw SinkError(
                .store, "event \(stored.id) (sequence \(stored.sequence)) is not a JSON event object: \(error)",
                retryable: false)
        }
        self.init(
            sequence: stored.sequence, id: EventID(commitLSN: stored.commitLSN, ordinal: stored.ordinal),
            op: fields.op ?? "", schema: fields.schema, table: fields.table, schemaVersion: fields.schemaVersion,
            key: fields.key, body: stored.body)
    }

    /// `schema.table`, or `-` for an event of no table.
    public var qualifiedTable: String {
        guard let schema, let table else { return "-" }
        return "\(schema).\(table)"
    }

    /// What decides the partition and per-key order: the row key, or the
    /// table for events without one (truncates, schema changes), so those
    /// stay in order with each other.
    public var orderingKey: [UInt8] { key ?? Array(qualifiedTable.utf8) }
}
