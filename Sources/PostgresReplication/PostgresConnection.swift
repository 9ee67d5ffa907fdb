// One libpq connection: the only code that touches `PGconn` pointers.
//
// Every call blocks the calling thread, so a connection lives on a thread the
// service owns (a pipeline's worker), never on Swift's cooperative pool.

import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// A libpq connection, used from one thread at a time.
public final class PostgresConnection {
    /// Settings every session gets so that values arrive in one predictable
    /// text form whatever the server's defaults (the value converter relies
    /// on ISO dates, ISO 8601 intervals, UTC and round-trip float precision).
    public static let sessionOptions =
        "-c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c TimeZone=UTC -c extra_float_digits=3 -c bytea_output=hex"

    public enum Mode: Sendable {
        /// An ordinary SQL session.
        case sql
        /// A walsender session on one database (`replication=database`):
        /// replication commands and simple SQL.
        case logicalReplication
    }

    let handle: OpaquePointer
    public let mode: Mode
    /// When set, `query` gives up on an answer that takes longer (see
    /// `PostgresConnection+Deadline.swift`); the connection is then unusable.
    public var queryTimeout: Duration?

    /// Opens a connection; blocks until connected or failed.
    public init(
        settings: ConnectionSettings, mode: Mode, applicationName: String = "popsink-pg"
    ) throws(PostgresError) {
        var settings = settings
        if mode == .logicalReplication { settings["replication"] = "database" }
        if settings["connect_timeout"] == nil { settings["connect_timeout"] = "10" }
        if settings["application_name"] == nil { settings["fallback_application_name"] = applicationName }
        settings["options"] = [settings["options"], Self.sessionOptions]
            .compactMap { $0 }.joined(separator: " ")

        if let file = settings.sslPasswordFile { settings["sslpassword"] = try Self.firstLine(of: file) }
        var copies: [String] = []
        // libpq has read every file once PQconnectdbParams returns (ConnectionFile).
        defer { copies.forEach { unlink($0) } }
        for file in settings.connectionFiles {
            let path = try file.write()
            copies.append(path)
            settings[file.keyword] = path
        }
        // Isolated settings travel as one conninfo string in `dbname`
        // (expand_dbname): the only form in which libpq keeps an empty value.
        let expand: Int32 = settings.defaults == .none ? 1 : 0
        let pairs = expand == 1 ? [("dbname", try settings.isolated().conninfo())] : settings.parameters
        let keys = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer { (keys + values).forEach { free($0) } }
        let connection: OpaquePointer? = (keys.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer {
            keyPointers in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { valuePointers in
                PQconnectdbParams(keyPointers.baseAddress, valuePointers.baseAddress, expand)
            }
        }
        guard let connection else {
            throw PostgresError(
                kind: .connection, operation: "connecting", message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            var message = String(cString: PQerrorMessage(connection))
            if message.contains("certificate verify failed"), let target = TLSDiagnosis.target(of: connection),
                let reason = TLSDiagnosis.chainFailure(target)
            {
                message = message.trimmingTrailingNewlines() + " (the server's certificate: \(reason))"
            }
            PQfinish(connection)
            throw PostgresError(
                kind: .connection, operation: "connecting to \(settings.redacted)", message: message)
        }
        // libpq prints NOTICEs to stderr by default; they are not errors here.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
        self.mode = mode
    }

    deinit { PQfinish(handle) }

    /// The first line of a secret file, without its line ending (LF or CR LF).
    static func firstLine(of path: String) throws(PostgresError) -> String {
        guard let file = fopen(path, "r") else {
            throw PostgresError(
                kind: .connection, operation: "reading \(path)", message: String(cString: strerror(errno)),
                hint: "Make the passphrase file readable by this service.")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        while true {
            let byte = getc(file)
            if byte == EOF || byte == 0x0A { break }
            bytes.append(UInt8(byte))
        }
        if bytes.last == 0x0D { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The server's version as `server_version_num` (e.g. 150018).
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// The socket, for `poll`.
    public var socket: Int32 { PQsocket(handle) }

    /// The backend process id serving this connection.
    public var backendPID: Int32 { PQbackendPID(handle) }

    var errorMessage: String { String(cString: PQerrorMessage(handle)) }

    /// Runs one statement with text parameters (`$1`, `$2`…) and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> QueryResult {
        if let queryTimeout { return try query(sql, parameters, timeout: queryTimeout) }
        let result: OpaquePointer?
        if parameters.isEmpty {
            result = PQexec(handle, sql)
        } else {
            let copies = parameters.map { $0.map { strdup($0) } ?? nil }
            defer { copies.forEach { free($0) } }
            result = copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
                PQexecParams(handle, sql, Int32(parameters.count), nil, values.baseAddress, nil, nil, 0)
            }
        }
        return try finish(result, operation: sql)
    }

    /// Checks a result, copies its rows out and frees it.
    func finish(_ result: OpaquePointer?, operation: String, expecting expected: ExecStatusType? = nil)
        throws(PostgresError) -> QueryResult
    {
        guard let result else {
            throw PostgresError(kind: .connection, operation: operation, message: errorMessage)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        if let expected, status == expected { return QueryResult(columns: [], rows: []) }
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            throw Self.error(from: result, operation: operation, connection: handle)
        }
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        let rows = (0..<PQntuples(result)).map { row in
            (0..<columnCount).map { column -> String? in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }
        }
        return QueryResult(columns: columns, rows: rows)
    }

    static func error(from result: OpaquePointer, operation: String, connection: OpaquePointer) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
        }
        let sqlState = field(UInt8(ascii: "C"))
        let primary = field(UInt8(ascii: "M")) ?? String(cString: PQerrorMessage(connection))
        let lost = PQstatus(connection) != CONNECTION_OK
        return PostgresError(
            kind: lost || sqlState == nil ? .connection : .server,
            operation: operation, sqlState: sqlState, message: primary,
            detail: field(UInt8(ascii: "D")), hint: field(UInt8(ascii: "H")))
    }

    /// Quotes an identifier for SQL (`"name"` with inner quotes doubled).
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingAll("\"", with: "\"\"") + "\""
    }

    /// Quotes a string literal for SQL (`'text'` with inner quotes doubled).
    public static func quoteLiteral(_ text: String) -> String {
        "'" + text.replacingAll("'", with: "''") + "'"
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = Substring(self)
        while text.last?.isNewline == true { text.removeLast() }
        return String(text)
    }

    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        out.reserveCapacity(count)
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
