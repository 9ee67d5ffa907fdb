// Per-table progress of the snapshot, derived from the chunk plan and
// updated as groups commit: what `PipelineStatus.snapshot` shows.

import EventStore

struct SnapshotProgressTracker {
    /// Rows a group stored for one chunk, and whether that finished it.
    struct ChunkProgress {
        let id: Int64
        let rows: Int64
        let done: Bool
    }

    private(set) var tables: [TableSnapshotProgress]
    private var tableOfChunk: [Int64: Int] = [:]

    init(tables plan: [SnapshotPlan.Table], chunks: [SnapshotChunk]) {
        let byName = SnapshotPlan.index(plan)
        tables = plan.map { table in
            TableSnapshotProgress(
                schema: table.schema.relation.namespace, table: table.schema.relation.name,
                estimatedRows: table.estimatedRows)
        }
        for chunk in chunks {
            guard let index = byName[chunk.tableName] else { continue }
            tableOfChunk[chunk.id] = index
            tables[index].chunksTotal += 1
            tables[index].rowsDone += chunk.rows
            if chunk.isDone { tables[index].chunksDone += 1 }
        }
        for index in tables.indices { refreshState(index) }
    }

    mutating func apply(_ progress: [ChunkProgress]) {
        for chunk in progress {
            guard let index = tableOfChunk[chunk.id] else { continue }
            tables[index].rowsDone += chunk.rows
            if chunk.done { tables[index].chunksDone += 1 }
            refreshState(index)
        }
    }

    private mutating func refreshState(_ index: Int) {
        let table = tables[index]
        tables[index].state =
            table.chunksDone == table.chunksTotal
            ? .done
            : table.rowsDone > 0 || table.chunksDone > 0 ? .loading : .pending
    }
}
