// `popsink-pg check`: tests the Postgres prerequisites and prints the SQL
// that fixes each one that fails.

import ArgumentParser
import Foundation
import SourceCheck

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that a source is ready for capture; print the SQL that fixes each failed check.",
        discussion: "Exit status 0 when every check passes, 1 otherwise.")

    @OptionGroup var source: SourceOptions

    @Option(help: ArgumentHelp("The publication the pipeline will use.", valueName: "name"))
    var publication = "popsink"

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report = SourceChecker.run(settings: try source.settings(), publication: publication)
        if json {
            print(String(decoding: report.json, as: UTF8.self))
        } else {
            print(renderText(report), terminator: "")
        }
        if !report.passed { throw ExitCode(1) }
    }
}
