// The `retention` object of a pipeline (openapi.yaml: RetentionInput): a
// field left out gets its default, a null lifts that limit.

import EventStore
import Foundation

extension JSONInput {
    static let retentionFields: Set<String> = ["max_age_seconds", "max_bytes", "hard_max_bytes"]

    /// The settings, or nil when the object is absent or null (defaults) or has errors, which are recorded.
    mutating func retention(_ field: String) -> RetentionSettings? {
        guard let map = nestedObject(field, known: Self.retentionFields) else { return nil }
        let errorsBefore = errors.count
        var settings = RetentionSettings.default
        func limit(_ key: String, _ current: Int64?, most: Int64 = .max) -> Int64? {
            guard map.keys.contains(key) else { return current }
            guard let number = integer("\(field).\(key)", in: map[key]) else { return nil }
            if number <= 0 || Int64(number) > most {
                fail("\(field).\(key)", "must be a positive integer up to \(most), or null for no limit")
            }
            return Int64(number)
        }
        settings.maxAgeSeconds = limit(
            "max_age_seconds", settings.maxAgeSeconds, most: RetentionSettings.longestAgeSeconds)
        settings.maxBytes = limit("max_bytes", settings.maxBytes)
        settings.hardMaxBytes = limit("hard_max_bytes", settings.hardMaxBytes)
        if errors.count == errorsBefore, let violation = settings.policy.violation {
            fail(field, violation)
        }
        return errors.count == errorsBefore ? settings : nil
    }
}
