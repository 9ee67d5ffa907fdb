// Waiting for a live system to reach a state, with no claim on how soon.

import Foundation

/// Polls `condition` until it holds or `seconds` pass; returns whether it held.
///
/// Live tests share a loaded machine with the rest of the suite. There a
/// pipeline can take tens of seconds to reach a state (a new slot waits for
/// every transaction open on the cluster, and other tests run long ones), so
/// the default deadline is generous: a test asserts what happens, never how
/// fast (timing claims belong to bench/).
public func eventually(
    within seconds: Double = 120, every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if try await condition() { return true }
        if Date() >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}
