// Dropping a deleted pipeline's managed publication, with its slot
// (`DELETE …?drop_slot=true`): popsink created it, so popsink removes it.

import CDC
import PostgresReplication

enum PublicationDropper {
    /// Drops the managed publication `name` when it exists.
    static func drop(
        _ name: String, source: SourceRecord, credentials: SourceCredentialFiles
    ) async throws(PipelineRegistry.Failure) {
        let settings: ConnectionSettings
        do {
            settings = try credentials.settings(for: source)
        } catch {
            throw .sourceUnavailable("could not drop publication \(name): \(error)")
        }
        do throws(PostgresError) {
            _ = try await PostgresConnection.query(
                settings: settings, applicationName: "popsink-pg api",
                "DROP PUBLICATION IF EXISTS \(PostgresConnection.quoteIdentifier(name))")
        } catch {
            throw .sourceUnavailable("could not drop publication \(name): \(error)")
        }
    }
}
