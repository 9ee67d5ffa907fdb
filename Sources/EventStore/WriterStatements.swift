// The writer's prepared statements, compiled once when the store opens and
// reused for every group, so the hot path never parses SQL.

final class WriterStatements {
    let begin: SQLiteStatement
    let commit: SQLiteStatement
    let rollback: SQLiteStatement
    let insertBlock: SQLiteStatement
    let updateBlock: SQLiteStatement
    let countBlockEvents: SQLiteStatement
    let selectBlockAfter: SQLiteStatement
    let deleteBlocks: SQLiteStatement
    let insertGroup: SQLiteStatement
    let upsertCheckpoint: SQLiteStatement
    let upsertMetadata: SQLiteStatement
    let deleteMetadata: SQLiteStatement
    let deleteEvents: SQLiteStatement
    let deleteGroups: SQLiteStatement
    let selectNewlyLostConsumers: SQLiteStatement
    let markConsumersLost: SQLiteStatement
    let insertReferencedBlock: SQLiteStatement
    let insertFrame: SQLiteStatement
    let updateFrame: SQLiteStatement
    let deleteFrame: SQLiteStatement
    let insertStaged: SQLiteStatement
    let selectStaged: SQLiteStatement
    let selectStagedSizes: SQLiteStatement
    let updateStagedCounts: SQLiteStatement
    let deleteStaged: SQLiteStatement
    let deleteStagedOfKind: SQLiteStatement
    let deleteFramesOfTransaction: SQLiteStatement
    let deleteStagedOfTransaction: SQLiteStatement
    let deleteAllStagedFrames: SQLiteStatement
    let deleteAllStaged: SQLiteStatement
    let insertLoadChunk: SQLiteStatement
    let updateLoadChunk: SQLiteStatement

    init(_ connection: SQLiteConnection) throws(EventStoreError) {
        // IMMEDIATE takes the write lock at BEGIN, so a conflict shows up there
        // and never half way through a group.
        begin = try connection.prepare("BEGIN IMMEDIATE")
        commit = try connection.prepare("COMMIT")
        rollback = try connection.prepare("ROLLBACK")
        // insertBlock and updateBlock take the same parameters in the same order.
        insertBlock = try connection.prepare(
            "INSERT INTO event_blocks (last_seq, first_seq, codec, raw_bytes, frame) VALUES (?1, ?2, ?3, ?4, ?5)")
        updateBlock = try connection.prepare(
            """
            UPDATE event_blocks SET first_seq = ?2, codec = ?3, raw_bytes = ?4, frame = ?5, frame_id = NULL
            WHERE last_seq = ?1
            """)
        countBlockEvents = try connection.prepare(
            "SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM event_blocks WHERE last_seq <= ?1")
        selectBlockAfter = try connection.prepare(
            """
            SELECT b.first_seq, b.last_seq, b.codec, b.raw_bytes, b.frame, f.frame
            FROM event_blocks b LEFT JOIN block_frames f ON f.id = b.frame_id
            WHERE b.last_seq > ?1 ORDER BY b.last_seq LIMIT 1
            """)
        deleteBlocks = try connection.prepare("DELETE FROM event_blocks WHERE last_seq <= ?1")
        insertGroup = try connection.prepare(
            """
            INSERT INTO groups (
                last_seq, first_seq, event_count, body_bytes, min_commit_lsn, max_commit_lsn, began_at_us, committed_at_us)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            """)
        upsertCheckpoint = try connection.prepare(
            """
            INSERT INTO checkpoint (id, last_commit_lsn, flush_lsn, last_seq, updated_at_us)
            VALUES (1, ?1, ?2, ?3, ?4)
            ON CONFLICT (id) DO UPDATE SET
                last_commit_lsn = excluded.last_commit_lsn, flush_lsn = excluded.flush_lsn,
                last_seq = excluded.last_seq, updated_at_us = excluded.updated_at_us
            """)
        upsertMetadata = try connection.prepare(
            "INSERT INTO metadata (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        deleteMetadata = try connection.prepare("DELETE FROM metadata WHERE key = ?1")
        deleteEvents = try connection.prepare("DELETE FROM events WHERE seq <= ?1")
        deleteGroups = try connection.prepare("DELETE FROM groups WHERE last_seq <= ?1")
        selectNewlyLostConsumers = try connection.prepare(
            "SELECT name FROM consumers WHERE acked_seq < ?1 AND lost_through IS NULL ORDER BY name")
        markConsumersLost = try connection.prepare(
            """
            UPDATE consumers SET lost_through = max(coalesce(lost_through, 0), ?1), updated_at_us = ?2
            WHERE acked_seq < ?1
            """)
        insertReferencedBlock = try connection.prepare(
            """
            INSERT INTO event_blocks (last_seq, first_seq, codec, raw_bytes, frame, frame_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """)
        // insertFrame binds codec, raw_bytes and frame as ?1 to ?3, updateFrame as ?2 to ?4.
        insertFrame = try connection.prepare("INSERT INTO block_frames (codec, raw_bytes, frame) VALUES (?1, ?2, ?3)")
        updateFrame = try connection.prepare(
            "UPDATE block_frames SET codec = ?2, raw_bytes = ?3, frame = ?4 WHERE id = ?1")
        deleteFrame = try connection.prepare("DELETE FROM block_frames WHERE id = ?1")
        // Right after insertFrame: the staged row of the frame just inserted.
        insertStaged = try connection.prepare(
            """
            INSERT INTO staged (frame_id, xid, kind, event_count, body_bytes)
            VALUES (last_insert_rowid(), ?1, ?2, ?3, ?4)
            """)
        selectStaged = try connection.prepare(
            """
            SELECT s.frame_id, f.codec, f.raw_bytes, f.frame, s.event_count, s.body_bytes
            FROM staged s JOIN block_frames f ON f.id = s.frame_id
            WHERE s.xid = ?1 AND s.kind = ?2 AND s.frame_id > ?3 ORDER BY s.frame_id LIMIT ?4
            """)
        // The same without the frame, whose overflow pages SQLite then does not read.
        selectStagedSizes = try connection.prepare(
            """
            SELECT s.frame_id, f.codec, f.raw_bytes, s.event_count, s.body_bytes
            FROM staged s JOIN block_frames f ON f.id = s.frame_id
            WHERE s.xid = ?1 AND s.kind = ?2 AND s.frame_id > ?3 ORDER BY s.frame_id LIMIT ?4
            """)
        updateStagedCounts = try connection.prepare(
            "UPDATE staged SET event_count = ?2, body_bytes = ?3 WHERE frame_id = ?1")
        deleteStaged = try connection.prepare("DELETE FROM staged WHERE frame_id = ?1")
        deleteStagedOfKind = try connection.prepare("DELETE FROM staged WHERE xid = ?1 AND kind = ?2")
        deleteFramesOfTransaction = try connection.prepare(
            "DELETE FROM block_frames WHERE id IN (SELECT frame_id FROM staged WHERE xid = ?1)")
        deleteStagedOfTransaction = try connection.prepare("DELETE FROM staged WHERE xid = ?1")
        deleteAllStagedFrames = try connection.prepare(
            "DELETE FROM block_frames WHERE id IN (SELECT frame_id FROM staged)")
        deleteAllStaged = try connection.prepare("DELETE FROM staged")
        insertLoadChunk = try connection.prepare(
            """
            INSERT INTO load_chunks (
                chunk, schema_name, table_name, relfilenode, first_page, end_page, next_page, rows, done)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            """)
        updateLoadChunk = try connection.prepare(
            "UPDATE load_chunks SET next_page = ?2, rows = rows + ?3, done = ?4 WHERE chunk = ?1")
    }

    func finalize() {
        for statement in [
            begin, commit, rollback, insertBlock, updateBlock, countBlockEvents, selectBlockAfter, deleteBlocks,
            insertGroup, upsertCheckpoint,
            upsertMetadata, deleteMetadata, deleteEvents, deleteGroups, selectNewlyLostConsumers, markConsumersLost,
            insertReferencedBlock, insertFrame, updateFrame, deleteFrame, insertStaged, selectStaged,
            selectStagedSizes, updateStagedCounts, deleteStaged, deleteStagedOfKind, deleteFramesOfTransaction,
            deleteStagedOfTransaction, deleteAllStagedFrames, deleteAllStaged,
            insertLoadChunk, updateLoadChunk,
        ] {
            statement.finalize()
        }
    }
}
