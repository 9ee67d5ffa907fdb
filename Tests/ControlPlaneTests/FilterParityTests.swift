// The console previews a pipeline's filters in the browser with its own copy
// of the glob rules (Public/js/filters.js). Both sides answer the same cases
// from Tests/Browser/filter_cases.json: the service's TableFilter here, the
// page's in BrowserConsoleTests; a rule changed on one side only fails one of them.

import CDC
import Foundation
import Testing

@Suite struct FilterParityTests {
    struct Case: Decodable {
        let filters: [String: [String]]
        let schema: String
        let table: String
        let selected: Bool
    }

    struct Cases: Decodable { let cases: [Case] }

    @Test func tableFilterAnswersTheConsolesCases() throws {
        let file = BrowserConsoleTests.repository.appendingPathComponent("Tests/Browser/filter_cases.json")
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: file)).cases
        #expect(cases.count > 10)
        for item in cases {
            let filter = TableFilter(
                includeSchemas: item.filters["include_schemas"] ?? [],
                excludeSchemas: item.filters["exclude_schemas"] ?? [],
                includeTables: item.filters["include_tables"] ?? [],
                excludeTables: item.filters["exclude_tables"] ?? [])
            #expect(
                filter.selects(schema: item.schema, table: item.table) == item.selected,
                "\(item.filters) on \(item.schema).\(item.table)")
        }
    }
}
