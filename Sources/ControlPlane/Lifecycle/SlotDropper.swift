// Dropping a deleted pipeline's replication slot (`DELETE …?drop_slot=true`).

import PostgresReplication

enum SlotDropper {
    /// Drops `slot` on the source when it exists; a slot already gone is not an error.
    static func drop(_ slot: String, source: SourceRecord) async throws(PipelineRegistry.Failure) {
        do throws(PostgresError) {
            _ = try await PostgresConnection.query(
                settings: source.connectionSettings, applicationName: "popsink-pg api",
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", [slot])
        } catch {
            throw .sourceUnavailable("could not drop slot \(slot): \(error)")
        }
    }
}
