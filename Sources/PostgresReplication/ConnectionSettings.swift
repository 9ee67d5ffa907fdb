// How to reach a Postgres server, as libpq keyword/value pairs.
//
// A source is given the way libpq users know: a URI
// (`postgres://user@host:5432/db?sslmode=require`) or a keyword string
// (`host=... dbname=...`). libpq's own `PQconninfoParse` reads it, so quoting
// and percent-encoding follow libpq exactly; connections are then opened with
// `PQconnectdbParams` from the pairs, never by pasting strings together.

import CLibPQ

/// libpq connection parameters, parsed and validated.
public struct ConnectionSettings: Sendable, Equatable {
    /// Keyword/value pairs in libpq's order.
    public private(set) var parameters: [(key: String, value: String)]

    /// Where libpq may take what the parameters leave out.
    public enum Defaults: Sendable, Equatable {
        /// libpq's own defaults: `PGPASSWORD`, `~/.pgpass`, `PGSSLMODE`, `~/.postgresql/…`
        /// and the other `PG*` variables of the process. Right for the CLI,
        /// where the environment is the user's own shell.
        case environment
        /// Only what the parameters say: every keyword libpq would fill from the
        /// environment or the home directory is given explicitly (see
        /// `ConnectionSettings+Isolation.swift`). Right for sources registered
        /// through the API, so that an API user cannot point a source at a
        /// server of their own and receive the service's password or key.
        case none
    }

    /// Whether libpq may fill gaps from the environment; see `Defaults`.
    public var defaults: Defaults

    /// A file whose first line is the passphrase of `sslkey` (libpq's
    /// `sslpassword`), read when a connection opens so that the passphrase is
    /// in no command line and no stored record.
    public var sslPasswordFile: String?

    /// Certificates and keys written as files only while a connection opens
    /// (see `ConnectionFile`); each sets its keyword to the copy's path.
    public var connectionFiles: [ConnectionFile] = []

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.defaults == rhs.defaults && lhs.sslPasswordFile == rhs.sslPasswordFile
            && lhs.connectionFiles == rhs.connectionFiles
            && lhs.parameters.elementsEqual(rhs.parameters) { $0.key == $1.key && $0.value == $1.value }
    }

    public init(parameters: [(key: String, value: String)], defaults: Defaults = .environment) {
        self.parameters = parameters
        self.defaults = defaults
    }

    /// Parses a libpq URI or keyword string.
    ///
    /// - Parameter allowPassword: a password written in the source would be
    ///   visible in `ps` and shell history; the CLI refuses it and takes the
    ///   password from `PGPASSWORD`, `--password-file` or `~/.pgpass` instead.
    public init(parsing source: String, allowPassword: Bool = false) throws(PostgresError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(source, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError(
                kind: .connection, operation: "parsing the source",
                message: message,
                hint: "Give a libpq URI (postgres://user@host:5432/db) or keyword string (host=... dbname=...).")
        }
        defer { PQconninfoFree(options) }
        var parameters: [(key: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                parameters.append((String(cString: keyword), String(cString: value)))
            }
            option += 1
        }
        if !allowPassword, parameters.contains(where: { $0.key == "password" }) {
            throw PostgresError(
                kind: .connection, operation: "parsing the source",
                message: "the source contains a password, which would be visible to other users of this machine",
                hint: "Remove it from the source and set PGPASSWORD, use --password-file, or ~/.pgpass.")
        }
        self.parameters = parameters
        self.defaults = .environment
    }

    public subscript(key: String) -> String? {
        get { parameters.last { $0.key == key }?.value }
        set {
            parameters.removeAll { $0.key == key }
            if let newValue { parameters.append((key, newValue)) }
        }
    }

    /// The database name libpq will connect to (`dbname`, else `user`, else
    /// the OS user, as libpq defaults it).
    public var databaseName: String? { self["dbname"] ?? self["user"] }

    /// The settings without secrets, for logs and error messages.
    public var redacted: String {
        parameters.map { pair in
            let secret = ["password", "sslpassword"].contains(pair.key)
            return "\(pair.key)=\(secret ? "********" : pair.value)"
        }.joined(separator: " ")
    }
}
