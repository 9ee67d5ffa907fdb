// How the CLI names a Postgres source: a libpq URI or keyword string, with the
// password kept off the command line.

import ArgumentParser
import Foundation
import PostgresReplication

struct SourceOptions: ParsableArguments {
    @Argument(
        help: ArgumentHelp(
            "The database to capture, as a libpq URI or keyword string.",
            discussion: "Examples: postgres://app@db.example:5432/app?sslmode=verify-full, "
                + "or 'host=127.0.0.1 port=5432 user=app dbname=app'. Put no password here: use PGPASSWORD, "
                + "--password-file or ~/.pgpass.",
            valueName: "source"))
    var source: String

    @Option(
        help: ArgumentHelp(
            "Read the password from this file (first line). Otherwise libpq uses PGPASSWORD or ~/.pgpass.",
            valueName: "path"))
    var passwordFile: String?

    @Option(
        name: .customLong("sslpassword-file"),
        help: ArgumentHelp(
            "Read the passphrase of the client key (sslkey) from this file (first line).", valueName: "path"))
    var sslPasswordFile: String?

    func settings() throws -> ConnectionSettings {
        var settings = try ConnectionSettings(parsing: source)
        settings.sslPasswordFile = sslPasswordFile
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw ValidationError("Cannot read the password file \(passwordFile).")
            }
            settings["password"] = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        return settings
    }
}
