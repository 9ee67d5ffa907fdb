// The `snapshot` object of a pipeline (openapi.yaml: SnapshotSettingsInput):
// each field optional, each error named by its dotted path
// (`snapshot.workers`) like the other nested fields.

import Foundation

extension JSONInput {
    /// The settings, or nil when the object is absent or null (defaults) or
    /// has errors, which are recorded.
    mutating func snapshotSettings(_ field: String) -> SnapshotSettings? {
        let known = Set(SnapshotSettings.Field.allCases.map(\.rawValue) + ["enabled", "backfill_max_rows_per_second"])
        guard let map = nestedObject(field, known: known) else { return nil }
        let errorsBefore = errors.count
        var enabled = true
        switch map["enabled"] {
        case nil, is NSNull: break
        case let flag as NSNumber where Self.isBoolean(flag): enabled = flag.boolValue
        default: fail("\(field).enabled", "must be true or false")
        }
        var values: [SnapshotSettings.Field: Int] = [:]
        for key in SnapshotSettings.Field.allCases {
            values[key] = integer("\(field).\(key.rawValue)", in: map[key.rawValue])
        }
        let (workers, chunkPages, rowsPerGroup) = (values[.workers], values[.chunkPages], values[.rowsPerGroup])
        for violation in SnapshotSettings.violations(
            workers: workers, chunkPages: chunkPages, rowsPerGroup: rowsPerGroup)
        {
            fail("\(field).\(violation.field.rawValue)", violation.message)
        }
        let cap = integer("\(field).backfill_max_rows_per_second", in: map["backfill_max_rows_per_second"])
        if let cap, cap < 1 { fail("\(field).backfill_max_rows_per_second", "must be at least 1") }
        guard errors.count == errorsBefore else { return nil }
        var settings = try? SnapshotSettings(
            enabled: enabled, workers: workers, chunkPages: chunkPages, rowsPerGroup: rowsPerGroup)
        settings?.backfillMaxRowsPerSecond = cap
        return settings
    }
}
