// Shared setup for the end-to-end tests: a fresh database per test with a
// publication, a pipeline pointed at it, and helpers to run the pipeline in
// process or as the `popsink-pg` binary and to read back what it stored.

import CDC
import EventStore
import Foundation
import PostgresReplication
import PostgresTestSupport
import PostgresWire
import Testing

/// One test's database, data directory and pipeline.
struct CaptureHarness {
    let postgres: TestPostgres
    let database: String
    let dataDirectory: URL
    /// One table `t (id int PRIMARY KEY)` with full identity, in publication `popsink`.
    static let singleTable = """
        CREATE TABLE t (id int PRIMARY KEY);
        ALTER TABLE t REPLICA IDENTITY FULL;
        CREATE PUBLICATION popsink FOR TABLE t;
        """

    /// Slots are cluster-wide: one per test, named after the test's database.
    var pipelineID: String { "p\(database)" }

    /// Creates a database and runs `setup` in it (tables, publication...).
    init(setup: String) throws {
        postgres = try TestPostgres.shared()
        database = try postgres.createDatabase()
        dataDirectory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("popsink-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        if !setup.isEmpty { try execute(setup) }
    }

    var slotName: SlotName { PipelineConfig.defaultSlot(pipelineID: pipelineID)! }
    var storePath: String { DataDirectory(path: dataDirectory.path).eventStorePath(pipelineID: pipelineID) }
    var connectionString: String { postgres.connectionString(database: database) }

    @discardableResult
    func execute(_ sql: String) throws -> QueryResult {
        try postgres.execute(sql, database: database)
    }

    func config(
        endPosition: EndPosition? = .current, filter: TableFilter = .all, publication: String = "popsink"
    ) throws -> PipelineConfig {
        try PipelineConfig(
            id: pipelineID, source: postgres.settings(database: database), publication: publication,
            storePath: storePath, filter: filter, endPosition: endPosition,
            retry: RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1)))
    }

    /// Runs the pipeline in process until everything written so far is stored.
    @discardableResult
    func runToCurrent(filter: TableFilter = .all) throws -> PipelineOutcome {
        PipelineWorker(config: try config(filter: filter)).run()
    }

    /// Runs to the current position and records an issue unless that succeeds.
    func capture(filter: TableFilter = .all, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try runToCurrent(filter: filter)
        #expect(outcome == .reachedEnd, sourceLocation: sourceLocation)
    }

    /// Visits every stored event, parsed, in store order, without keeping them.
    func forEachEvent(_ visit: (Event) throws -> Void) throws {
        let reader = try EventStoreReader(path: storePath)
        defer { reader.close() }
        var cursor: Int64 = 0
        while true {
            let page = try reader.events(after: cursor, limit: 5_000)
            guard let last = page.last else { return }
            for stored in page { try visit(try Event(stored: stored)) }
            cursor = last.sequence
        }
    }

    /// Every stored event, parsed, in store order.
    func events() throws -> [Event] {
        let reader = try EventStoreReader(path: storePath)
        defer { reader.close() }
        var all: [Event] = []
        var cursor: Int64 = 0
        while true {
            let page = try reader.events(after: cursor, limit: 10_000)
            guard let last = page.last else { return all }
            all += try page.map { try Event(stored: $0) }
            cursor = last.sequence
        }
    }

    /// The slot's `confirmed_flush_lsn`, nil when the slot does not exist.
    func confirmedFlush() throws -> LSN? {
        try execute("SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = '\(slotName)'")
            .value("lsn").flatMap { LSN($0) }
    }

    /// Drops the slot, waiting for the walsender of a finished run to let go of it.
    func dropSlot() async throws {
        for _ in 0..<300 {
            let active = try execute(
                "SELECT active FROM pg_replication_slots WHERE slot_name = '\(slotName)'").value("active")
            if active == nil { return }
            if active == "f" {
                try execute("SELECT pg_drop_replication_slot('\(slotName)')")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("slot \(slotName) stayed active for 30 s")
    }

    func removeDataDirectory() {
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    /// Drops the slot (if any) and the data directory; the database is left
    /// for the cluster's teardown.
    func cleanUp() {
        _ = try? execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '\(slotName)' AND NOT active")
        removeDataDirectory()
    }
}

/// A stored event, parsed with Foundation for assertions.
struct Event {
    let sequence: Int64
    let id: String
    let json: [String: Any]

    init(stored: StoredEvent) throws {
        sequence = stored.sequence
        id = stored.id
        let object = try JSONSerialization.jsonObject(with: Data(stored.body), options: [.fragmentsAllowed])
        json = try #require(object as? [String: Any], "event is not a JSON object: \(String(decoding: stored.body, as: UTF8.self))")
    }

    var op: String { json["op"] as? String ?? "" }
    var source: [String: Any] { json["source"] as? [String: Any] ?? [:] }
    var table: String { source["table"] as? String ?? "" }
    var after: [String: Any]? { json["after"] as? [String: Any] }
    var before: [String: Any]? { json["before"] as? [String: Any] }
    var key: [String: Any]? { json["key"] as? [String: Any] }
}

/// Rebuilds a table's rows from its events: what a consumer applying the
/// stream would hold. Keyed by the `id` column.
func rebuild(_ events: [Event], table: String, keyColumn: String = "id") -> [Int: [String: Any]] {
    var rows: [Int: [String: Any]] = [:]
    for event in events where event.table == table {
        switch event.op {
        case "c", "r", "u":
            if event.op == "u", let before = event.before, let old = intValue(before[keyColumn]) {
                rows[old] = nil
            }
            if let after = event.after, let key = intValue(after[keyColumn]) { rows[key] = after }
        case "d":
            if let before = event.before, let key = intValue(before[keyColumn]) { rows[key] = nil }
        case "t":
            rows = [:]
        default:
            break
        }
    }
    return rows
}

func intValue(_ value: Any?) -> Int? {
    switch value {
    case let number as NSNumber: number.intValue
    case let text as String: Int(text)
    default: nil
    }
}
