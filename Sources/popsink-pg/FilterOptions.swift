// The table filter's flags, shared by `run` and `check` so both read the same
// globs the same way.

import ArgumentParser
import CDC

struct FilterOptions: ParsableArguments {
    @Option(
        parsing: .upToNextOption, help: ArgumentHelp("Capture only schemas matching these globs.", valueName: "glob"))
    var includeSchemas: [String] = []

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Skip schemas matching these globs.", valueName: "glob"))
    var excludeSchemas: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Capture only tables matching these globs (schema.table, or table in any schema).", valueName: "glob"))
    var includeTables: [String] = []

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Skip tables matching these globs.", valueName: "glob"))
    var excludeTables: [String] = []

    var filter: TableFilter {
        TableFilter(
            includeSchemas: includeSchemas, excludeSchemas: excludeSchemas, includeTables: includeTables,
            excludeTables: excludeTables)
    }
}
