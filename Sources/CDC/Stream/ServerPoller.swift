// What the session reads about the source over its SQL connection, apart from
// the stream: the publication exists, the WAL insert position an `--end-lsn
// current` run stops at, and, about once a second while streaming, the
// server's WAL position and the slot's health (the stream's own positions
// only say how far decoding got, so lag would read 0 while Postgres is far ahead).

import PostgresReplication
import PostgresWire

final class ServerPoller {
    struct Reading {
        let position: LSN?
        let slot: SlotHealth?
    }

    private let connection: PostgresConnection
    private let slot: SlotName
    private let interval: Duration
    private var lastPoll: ContinuousClock.Instant?

    init(connection: PostgresConnection, slot: SlotName, interval: Duration = .seconds(1)) {
        self.connection = connection
        self.slot = slot
        self.interval = interval
    }

    func checkPublication(_ publication: String) throws {
        let exists = try connection.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication])
        guard !exists.rows.isEmpty else {
            throw PipelineError(
                .publicationMissing, "publication \(publication) does not exist in this database",
                remediation: "Create it: CREATE PUBLICATION \(PostgresConnection.quoteIdentifier(publication)) "
                    + "FOR ALL TABLES; (or FOR TABLE ...), then start again.")
        }
    }

    func currentInsertPosition() throws -> LSN? {
        try connection.query("SELECT pg_current_wal_insert_lsn()::text AS lsn").value("lsn").flatMap { LSN($0) }
    }

    /// The server's position and the slot's health, or nil when the last
    /// reading is less than `interval` old.
    func pollIfDue(now: ContinuousClock.Instant) throws -> Reading? {
        if let lastPoll, now - lastPoll < interval { return nil }
        lastPoll = now
        let result = try connection.query(
            """
            WITH here AS (
                SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END AS lsn)
            SELECT here.lsn::text AS lsn, \(Self.slotHealthColumns(serverVersion: connection.serverVersion))
            FROM here LEFT JOIN pg_replication_slots s ON s.slot_name = $1
            """, [slot.rawValue])
        let slot = result.value("wal_status").map { status in
            SlotHealth(
                walStatus: status, retainedBytes: result.value("retained").flatMap { UInt64($0) } ?? 0,
                safeWALBytes: result.value("safe").flatMap { Int64($0) })
        }
        return Reading(position: result.value("lsn").flatMap { LSN($0) }, slot: slot)
    }

    /// `wal_status` and `safe_wal_size` came with PostgreSQL 13; older servers report no slot health.
    private static func slotHealthColumns(serverVersion: Int) -> String {
        serverVersion >= 130000
            ? "s.wal_status, (here.lsn - s.restart_lsn)::bigint AS retained, s.safe_wal_size::bigint AS safe"
            : "NULL::text AS wal_status, NULL::bigint AS retained, NULL::bigint AS safe"
    }
}
