// Waiting in the fault tests: on a condition, with a deadline generous enough
// for a loaded 2-core machine, never on a fixed sleep.

import Foundation
import PostgresTestSupport

/// Polls `condition` every 20 ms; throws, naming `what` and what `situation`
/// says of the moment, after `seconds`.
func waitUntil(
    _ what: String, seconds: Double = 240, situation: () -> String = { "" }, _ condition: () throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestPostgresError("\(what): not within \(Int(seconds)) s \(situation())")
}
