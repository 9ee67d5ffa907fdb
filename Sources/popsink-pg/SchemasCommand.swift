// `popsink-pg schemas`: prints a pipeline's schema registry, one JSON line per
// version: the newest version of every captured table, or with `--table` the
// whole history of one.

import ArgumentParser
import CDC
import EventStore
import Foundation

struct SchemasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schemas",
        abstract: "Print the column lists a pipeline has seen for its tables, as JSON lines.",
        discussion: """
            Without --table: the newest version of each captured table. With --table: every version of that \
            table, oldest first, each with the LSN where it took effect and what changed.
            """)

    @Option(help: ArgumentHelp("The service's data directory.", valueName: "path"))
    var dataDir = "./popsink-data"

    @Option(help: ArgumentHelp("The pipeline whose registry to print.", valueName: "id"))
    var pipeline = "default"

    @Option(help: ArgumentHelp("Print the history of this table (schema.table).", valueName: "schema.table"))
    var table: String?

    func run() throws {
        let path = DataDirectory(path: dataDir).eventStorePath(pipelineID: pipeline)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError(
                "No event store for pipeline '\(pipeline)' at \(path). Check --data-dir and --pipeline.")
        }
        let reader = try EventStoreReader(path: path)
        defer { reader.close() }
        let versions: [StoredTableSchema]
        if let table {
            let parts = table.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw ValidationError("--table takes schema.table, for example public.users; got '\(table)'.")
            }
            versions = try reader.tableSchemaHistory(schema: parts[0], table: parts[1])
            if versions.isEmpty {
                throw ValidationError(
                    "Pipeline '\(pipeline)' has no schema versions of \(table): it captured no change or snapshot row of it yet."
                )
            }
        } else {
            versions = try reader.latestTableSchemas()
        }
        for version in versions { print(try SchemaJSON.line(version)) }
    }
}
