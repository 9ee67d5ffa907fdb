// `popsink-pg events`: prints what a pipeline's store holds, as JSON lines.

import ArgumentParser
import CDC
import EventStore
import Foundation

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print the events held in a pipeline's store as JSON lines, in commit order.",
        discussion: "The store is the exactly-once record of what was captured; this is what downstream tools read.")

    @Option(help: ArgumentHelp("The service's data directory.", valueName: "path"))
    var dataDir = "./popsink-data"

    @Option(help: ArgumentHelp("The pipeline whose events to print.", valueName: "id"))
    var pipeline = "default"

    @Option(help: ArgumentHelp("Print only events after this sequence number.", valueName: "seq"))
    var after: Int64 = 0

    @Option(
        help: ArgumentHelp(
            "The store id the --after cursor belongs to (as returned with the API's pages): refused if the store was reset since.",
            valueName: "id"))
    var store: String?

    @Option(
        help: ArgumentHelp("Write to this file instead of standard output (- for standard output).", valueName: "path"))
    var output = "-"

    func run() throws {
        let path = DataDirectory(path: dataDir).eventStorePath(pipelineID: pipeline)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError(
                "No event store for pipeline '\(pipeline)' at \(path). Check --data-dir and --pipeline.")
        }
        var cursor: StoreCursor
        do {
            cursor = try StoreCursor.parse(after: String(after), store: store)
        } catch {
            throw ValidationError("--\(error.field == "after" ? "after" : "store") \(error.message).")
        }
        let reader = try EventStoreReader(path: path)
        // Checked before anything is written: a reset store or an expired
        // cursor is an error, not a silently shorter output.
        try reader.check(cursor)
        let sink = try JSONLinesFile(path: output, append: false)
        while true {
            let page = try reader.page(after: cursor, limit: 5000)
            if page.events.isEmpty { break }
            try sink.write(page.events)
            cursor = page.nextCursor
        }
        try sink.close()
    }
}
