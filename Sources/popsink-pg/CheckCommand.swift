// `popsink-pg check`: tests the Postgres prerequisites and prints the SQL
// that fixes each one that fails.

import ArgumentParser
import CDC
import Foundation
import PostgresReplication
import SourceCheck

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that a source is ready for capture; print the SQL that fixes each failed check.",
        discussion: "Exit status 0 when every check passes, 1 otherwise.")

    @OptionGroup var source: SourceOptions

    @Option(
        help: ArgumentHelp(
            "The publication the pipeline will use (default: popsink, or popsink_<pipeline> with "
                + "--managed-publication).", valueName: "name"))
    var publication: String?

    @Flag(
        help: ArgumentHelp(
            "Check for a managed publication (run --managed-publication): the role's right to create it and to "
                + "add the tables the filters below select."))
    var managedPublication = false

    @Option(help: ArgumentHelp("The pipeline's id, which names its managed publication.", valueName: "id"))
    var pipeline = "default"

    @OptionGroup var filters: FilterOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(help: "Print the SQL that installs DDL capture (for a superuser to run) and exit.")
    var ddlCaptureSql = false

    @Flag(help: "Install DDL capture (event triggers; needs a superuser) before checking.")
    var installDdlCapture = false

    func run() throws {
        if ddlCaptureSql {
            print(DDLCapture.installSQL)
            return
        }
        if installDdlCapture {
            do {
                let connection = try PostgresConnection(
                    settings: try source.settings(), mode: .sql, applicationName: "popsink-pg check")
                try DDLCapture.install(on: connection)
            } catch let error as PostgresError where error.sqlState == "42501" {
                throw ValidationError(
                    "Only a superuser may create event triggers (\(error.message)). Have one run the output of `popsink-pg check SOURCE --ddl-capture-sql`."
                )
            }
        }
        let filter = filters.filter
        let report = SourceChecker.run(
            settings: try source.settings(),
            publication: publication
                ?? (managedPublication ? PipelineConfig.defaultManagedPublication(pipelineID: pipeline) : "popsink"),
            managed: managedPublication ? ManagedPublicationScope(selects: filter.selects) : nil)
        if json {
            print(String(decoding: report.json, as: UTF8.self))
        } else {
            print(renderText(report), terminator: "")
        }
        if !report.passed { throw ExitCode(1) }
    }
}
