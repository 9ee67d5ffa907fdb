// Shared setup for the end-to-end tests: a fresh database per test with a
// publication, a pipeline pointed at it, and helpers to run the pipeline in
// process or as the `popsink-pg` binary and to read back what it stored.

import Blocking
import CDC
import EventStore
import Foundation
import PostgresReplication
import PostgresTestSupport
import PostgresWire
import Testing

/// One test's database, data directory and pipeline.
public struct CaptureHarness: Sendable {
    public let postgres: TestPostgres
    public let database: String
    public let dataDirectory: URL
    /// One table `t (id int PRIMARY KEY)` with full identity, in publication `popsink`.
    public static let singleTable = """
        CREATE TABLE t (id int PRIMARY KEY);
        ALTER TABLE t REPLICA IDENTITY FULL;
        CREATE PUBLICATION popsink FOR TABLE t;
        """

    /// Slots are cluster-wide: one per test, named after the test's database.
    public var pipelineID: String { "p\(database)" }

    /// Creates a database and runs `setup` in it (tables, publication...).
    public init(setup: String) throws {
        postgres = try TestPostgres.shared()
        database = try postgres.createDatabase()
        dataDirectory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("popsink-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        if !setup.isEmpty { try execute(setup) }
    }

    /// `init(setup:)` from async code: the database and its setup are made off the cooperative pool.
    public init(setup: String) async throws {
        self = try await Blocking.run { try CaptureHarness(setup: setup) }
    }

    public var slotName: SlotName { PipelineConfig.defaultSlot(pipelineID: pipelineID)! }
    public var storePath: String { DataDirectory(path: dataDirectory.path).eventStorePath(pipelineID: pipelineID) }
    public var connectionString: String { postgres.connectionString(database: database) }

    @discardableResult
    public func execute(_ sql: String) throws -> QueryResult {
        try postgres.execute(sql, database: database)
    }

    public func config(
        endPosition: EndPosition? = .current, filter: TableFilter = .all, publication: String = "popsink"
    ) throws -> PipelineConfig {
        try PipelineConfig(
            id: pipelineID, source: postgres.settings(database: database), publication: publication,
            storePath: storePath, filter: filter, endPosition: endPosition,
            retry: RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1)))
    }

    /// Runs the pipeline in process until everything written so far is stored.
    @discardableResult
    public func runToCurrent(filter: TableFilter = .all) throws -> PipelineOutcome {
        PipelineWorker(config: try config(filter: filter)).run()
    }

    /// Runs to the current position and records an issue unless that succeeds.
    public func capture(filter: TableFilter = .all, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try runToCurrent(filter: filter)
        #expect(outcome == .reachedEnd, sourceLocation: sourceLocation)
    }

    /// Visits every stored change event (schema events left out), parsed, in
    /// store order, without keeping them.
    public func forEachEvent(_ visit: (Event) throws -> Void) throws {
        let reader = try EventStoreReader(path: storePath)
        defer { reader.close() }
        var cursor: Int64 = 0
        while true {
            let page = try reader.events(after: cursor, limit: 5_000)
            guard let last = page.last else { return }
            for stored in page {
                let event = try Event(stored: stored)
                if event.op != "s" { try visit(event) }
            }
            cursor = last.sequence
        }
    }

    /// Every stored change event (schema events left out), parsed, in store order.
    public func events() throws -> [Event] {
        try allEvents().filter { $0.op != "s" }
    }

    /// Every stored event, `s` events included, parsed, in store order.
    public func allEvents() throws -> [Event] {
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
    public func confirmedFlush() throws -> LSN? {
        try execute("SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = '\(slotName)'")
            .value("lsn").flatMap { LSN($0) }
    }

    /// Drops the slot, waiting for the walsender of a finished run to let go of it.
    public func dropSlot() async throws {
        for _ in 0..<300 {
            let active = try execute(
                "SELECT active FROM pg_replication_slots WHERE slot_name = '\(slotName)'"
            ).value("active")
            if active == nil { return }
            if active == "f" {
                try execute("SELECT pg_drop_replication_slot('\(slotName)')")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("slot \(slotName) stayed active for 30 s")
    }

    public func removeDataDirectory() {
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    /// Drops the slot (if any) and the data directory; the database is left
    /// for the cluster's teardown.
    public func cleanUp() {
        _ = try? execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '\(slotName)' AND NOT active"
        )
        removeDataDirectory()
    }
}

/// A stored event, parsed with Foundation for assertions.
public struct Event {
    public let sequence: Int64
    public let id: String
    public let json: [String: Any]

    public init(stored: StoredEvent) throws {
        sequence = stored.sequence
        id = stored.id
        let object = try JSONSerialization.jsonObject(with: Data(stored.body), options: [.fragmentsAllowed])
        json = try #require(
            object as? [String: Any], "event is not a JSON object: \(String(decoding: stored.body, as: UTF8.self))")
    }

    public var op: String { json["op"] as? String ?? "" }
    public var source: [String: Any] { json["source"] as? [String: Any] ?? [:] }
    public var table: String { source["table"] as? String ?? "" }
    public var after: [String: Any]? { json["after"] as? [String: Any] }
    public var before: [String: Any]? { json["before"] as? [String: Any] }
    public var key: [String: Any]? { json["key"] as? [String: Any] }
}

/// Rebuilds a table's rows from its events: what a consumer applying the
/// stream would hold. Keyed by the `id` column.
public func rebuild(_ events: [Event], table: String, keyColumn: String = "id") -> [Int: [String: Any]] {
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

public func intValue(_ value: Any?) -> Int? {
    switch value {
    case let number as NSNumber: number.intValue
    case let text as String: Int(text)
    default: nil
    }
}
