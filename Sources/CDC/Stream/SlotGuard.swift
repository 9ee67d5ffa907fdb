// DESIGN §4 invariant 5: the checkpoint is the truth, and the slot is
// checked against it before a single change is read.
//
// First start (no checkpoint): create the slot and record, in the store,
// the server's system identifier, the database, the slot and its consistent
// point. Every later start: the slot must be the one the store recorded (a
// store made before slots were recorded records it then), still exist, belong
// to the same system and database, still have its WAL, and must not have
// confirmed more than the store holds. Reading through another pipeline's
// slot would confirm its changes away from it. Any mismatch stops the pipeline with the reason and
// the way out; a slot is never silently re-created, because a new slot starts
// at "now" and every change in between would be lost without a trace.

import EventStore
import PostgresReplication
import PostgresWire

enum SlotGuard {
    enum MetadataKey {
        static let systemID = "system_id"
        static let timeline = "timeline"
        static let database = "database"
        static let slot = "slot_name"
        static let consistentPoint = "slot_consistent_point"
    }

    /// Where to start streaming, and the snapshot to load first when the
    /// slot was just created for a pipeline with a snapshot.
    struct Start {
        let lsn: LSN
        let snapshot: String?
    }

    /// Makes sure the slot and the store agree; returns where to start streaming.
    static func prepare(
        slot: SlotName, store: EventStoreWriter, sql: PostgresConnection, replication: PostgresConnection,
        identity: SystemIdentity, snapshot: Bool
    ) throws -> Start {
        let row = try sql.query(
            """
            SELECT plugin, slot_type, database, confirmed_flush_lsn::text AS confirmed, wal_status
            FROM pg_replication_slots WHERE slot_name = $1
            """, [slot.rawValue])
        let database = identity.database ?? ""
        let dropSQL = "SELECT pg_drop_replication_slot('\(slot)');"

        guard let checkpoint = store.checkpoint else {
            // A crash between creating the slot and saving the first checkpoint
            // leaves a slot nobody has read from: its confirmed position is
            // still its consistent point, so it is adopted, not refused.
            if !row.rows.isEmpty, try store.metadata(MetadataKey.slot) == slot.rawValue,
                try store.metadata(MetadataKey.systemID) == identity.systemID,
                let confirmed = row.value("confirmed").flatMap({ LSN($0) })
            {
                try store.saveCheckpoint(Checkpoint(lastCommitLSN: .zero, flushLSN: confirmed))
                return Start(lsn: confirmed, snapshot: nil)
            }
            guard row.rows.isEmpty else {
                throw PipelineError(
                    .slotWithoutCheckpoint,
                    "replication slot \(slot) already exists, but this pipeline's store has never recorded a position for it",
                    remediation: "If no other consumer uses it, drop it (\(dropSQL)) and start again; "
                        + "otherwise give this pipeline another --slot.")
            }
            try store.setMetadata(MetadataKey.systemID, identity.systemID)
            try store.setMetadata(MetadataKey.timeline, String(identity.timeline))
            try store.setMetadata(MetadataKey.database, database)
            try store.setMetadata(MetadataKey.slot, slot.rawValue)
            if snapshot { try store.setMetadata(SnapshotLoad.stateKey, "pending") }
            let created = try replication.createLogicalSlot(slot, snapshot: snapshot ? .export : .none)
            try store.setMetadata(MetadataKey.consistentPoint, created.consistentPoint.description)
            try store.saveCheckpoint(Checkpoint(lastCommitLSN: .zero, flushLSN: created.consistentPoint))
            return Start(lsn: created.consistentPoint, snapshot: created.snapshotName)
        }

        let resnapshot =
            "Delete this pipeline's store (or use a new data directory) to start a fresh capture"
            + " with a new slot; changes between the old and the new position are not in the store."
        let recordedSlot = try store.metadata(MetadataKey.slot)
        if let recordedSlot, recordedSlot != slot.rawValue {
            throw PipelineError(
                .slotMismatch,
                "this pipeline's store was filled through replication slot \(recordedSlot), but the pipeline is "
                    + "configured with slot \(slot)",
                remediation: "Set the slot back to \(recordedSlot) (--slot or slot_name); to capture through \(slot) "
                    + "instead, delete this pipeline's store (or use a new data directory) and start a fresh capture.")
        }
        let recordedSystem = try store.metadata(MetadataKey.systemID)
        let recordedDatabase = try store.metadata(MetadataKey.database)
        if let recordedSystem, recordedSystem != identity.systemID {
            throw PipelineError(
                .otherSystem,
                "the store was filled from Postgres system \(recordedSystem), but the source is system \(identity.systemID)",
                remediation: "Point the pipeline back at its server, or: \(resnapshot)")
        }
        if let recordedDatabase, recordedDatabase != database {
            throw PipelineError(
                .otherSystem,
                "the store was filled from database \(recordedDatabase), but the source is database \(database)",
                remediation: "Point the pipeline back at its database, or: \(resnapshot)")
        }
        guard !row.rows.isEmpty else {
            throw PipelineError(
                .slotMissing,
                "replication slot \(slot) no longer exists; the store's checkpoint is at \(checkpoint.flushLSN), "
                    + "and changes after it are no longer retained for this pipeline",
                remediation: resnapshot)
        }
        if row.value("plugin") != "pgoutput" || row.value("slot_type") != "logical" || row.value("database") != database
        {
            throw PipelineError(
                .otherSystem,
                "replication slot \(slot) is not a pgoutput slot on database \(database) "
                    + "(plugin \(row.value("plugin") ?? "none"), database \(row.value("database") ?? "none"))",
                remediation: "Give this pipeline its own --slot.")
        }
        if row.value("wal_status") == "lost" {
            throw PipelineError(
                .slotInvalidated,
                "replication slot \(slot) was invalidated: Postgres removed WAL it still needed (max_slot_wal_keep_size)",
                remediation: resnapshot)
        }
        if let confirmed = row.value("confirmed").flatMap({ LSN($0) }), confirmed > checkpoint.flushLSN {
            throw PipelineError(
                .slotAhead,
                "replication slot \(slot) has confirmed up to \(confirmed), but the store only holds changes up to "
                    + "\(checkpoint.flushLSN): the changes in between were acknowledged by someone else and are gone",
                remediation: resnapshot)
        }
        if recordedSlot == nil { try store.setMetadata(MetadataKey.slot, slot.rawValue) }
        if try store.metadata(MetadataKey.timeline) != String(identity.timeline) {
            try store.setMetadata(MetadataKey.timeline, String(identity.timeline))
        }
        // Stream from what the slot confirmed, which may be behind the
        // checkpoint (a crash between a group commit and its status update):
        // Postgres then resends stored transactions and the assembler skips
        // them by commit LSN (invariant 2), so nothing depends on the crash
        // having happened at a convenient moment.
        return Start(lsn: row.value("confirmed").flatMap { LSN($0) } ?? checkpoint.flushLSN, snapshot: nil)
    }
}
