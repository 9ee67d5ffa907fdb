// Dropping a deleted pipeline's replication slot (`DELETE …?drop_slot=true`).

import PostgresReplication

enum SlotDropper {
    /// Drops `slot` on the source when it exists; a slot already gone is not an error.
    static func drop(
        _ slot: String, source: SourceRecord, credentials: SourceCredentialFiles
    ) async throws(PipelineRegistry.Failure) {
        let settings: ConnectionSettings
        do {
            settings = try credentials.settings(for: source)
        } catch {
            throw .sourceUnavailable("could not drop slot \(slot): \(error)")
        }
        do throws(PostgresError) {
            _ = try await PostgresConnection.query(
                settings: settings, applicationName: "popsink-pg api",
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", [slot])
        } catch {
            throw .sourceUnavailable("could not drop slot \(slot): \(error)")
        }
    }
}
