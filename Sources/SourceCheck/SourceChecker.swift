// The entry point of `popsink-pg check` and `POST /v1/sources/{id}/check`:
// read the facts from the server, judge them, report.

import Blocking
import Foundation
import PostgresReplication

/// Tests a Postgres source against everything capture needs (DESIGN.md section 2).
public enum SourceChecker {
    /// The publication the checks look at unless told otherwise.
    public static let defaultPublication = "popsink"

    /// Runs every check and never throws: a failed connection is itself a
    /// failed check, with what to do about it.
    ///
    /// Blocks the calling thread on libpq for up to `connect_timeout` (10 s
    /// unless the settings say otherwise) plus the queries; from async code
    /// use the `async` overload, which runs on a thread of its own.
    /// With `managed`, the publication is one popsink creates and keeps
    /// holding the tables `managed` selects: the checks judge the role's
    /// right to do so, and those tables.
    public static func run(
        settings: ConnectionSettings, publication: String = defaultPublication,
        managed: ManagedPublicationScope? = nil
    ) -> CheckReport {
        let facts = FactReader.read(settings: settings, publication: publication, managed: managed)
        return CheckReport(
            source: settings.redacted, publication: publication,
            serverVersion: try? facts.get().version,
            checks: CheckEvaluation.evaluate(facts, publication: publication))
    }

    /// Runs every check on a `Blocking` thread, so libpq's blocking calls stay
    /// off Swift's cooperative pool.
    public static func run(
        settings: ConnectionSettings, publication: String = defaultPublication,
        managed: ManagedPublicationScope? = nil
    ) async -> CheckReport {
        await Blocking.run { run(settings: settings, publication: publication, managed: managed) }
    }
}
