// The `popsink-pg` command line: one subcommand per file.

import ArgumentParser

@main
struct PopsinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "popsink-pg",
        abstract:
            "Capture every committed change of a PostgreSQL database as an ordered, durable stream of JSON events.",
        discussion: """
            Postgres side: wal_level = logical, a role with REPLICATION and SELECT on the captured tables, \
            REPLICA IDENTITY FULL on each table, and a publication (default name popsink). \
            `popsink-pg check SOURCE` tests each of these and prints the SQL that fixes what is missing.
            """,
        version: PopsinkVersion.current,
        subcommands: [
            RunCommand.self, ServeCommand.self, CheckCommand.self, EventsCommand.self, SchemasCommand.self,
            RotateKeyCommand.self, VersionCommand.self,
        ]
    )
}

enum PopsinkVersion {
    static let current = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("popsink-pg \(PopsinkVersion.current)")
    }
}
