// Row filters of a filters PUT checked against the source while the
// pipeline runs (its connection settings are at hand then), so a filter the
// pipeline would refuse at its restart is a 422 now. A stopped pipeline's
// filters are checked when it starts (`ManagedPublication`).

import Blocking
import CDC
import PostgresReplication

enum RowFilterAcceptance {
    /// The field errors (`row_filters.<table>`) of `filters`' row filters; none when `config` is nil.
    static func problems(_ filters: TableFilter, config: PipelineConfig?) async throws -> [(
        field: String, message: String
    )] {
        guard let config, config.publicationMode == .managed, !filters.rows.isEmpty else { return [] }
        let (rows, source, timeout) = (filters.rows, config.source, config.receiveTimeout)
        let checked: Result<[(table: String, message: String)], any Error> = await Blocking.run {
            Result { try RowFilterCheck.problems(rows, source: source, timeout: timeout) }
        }
        return try checked.get().map { ("row_filters.\($0.table)", $0.message) }
    }
}
