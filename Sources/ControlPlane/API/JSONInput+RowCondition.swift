// Row conditions in request bodies: a backfill's `where` and a managed
// publication's row filters, both lists of {column, op, value} predicates.

import CDC
import Foundation

extension JSONInput {
    /// The condition at `field` (`value` is its JSON); nil when absent, null or wrong (recorded).
    mutating func rowCondition(_ field: String, in value: Any?) -> RowCondition? {
        guard let value, !(value is NSNull) else { return nil }
        var problems: RowCondition.FieldErrors = []
        let condition = RowCondition.parse(value, field: field, errors: &problems)
        for problem in problems { fail(problem.field, problem.message) }
        return condition
    }

    /// `row_filters`: a row condition per `schema.table` (names, not patterns).
    mutating func rowFilters(_ field: String, in value: Any?) -> [String: RowCondition] {
        guard let value, !(value is NSNull) else { return [:] }
        guard let map = value as? [String: Any] else {
            fail(field, "must be an object of schema.table names to lists of {column, op, value} predicates")
            return [:]
        }
        var filters: [String: RowCondition] = [:]
        for (table, json) in map.sorted(by: { $0.key < $1.key }) {
            let parts = table.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !table.contains("*"), !table.contains("?")
            else {
                fail("\(field).\(table)", "must be a schema.table name (no patterns)")
                continue
            }
            if let condition = rowCondition("\(field).\(table)", in: json) { filters[table] = condition }
        }
        return filters
    }
}
