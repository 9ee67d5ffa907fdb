// The initial load: rows that exist when the pipeline starts are stored once
// as `r` events, before the stream, and the stream picks up exactly where the
// snapshot stopped, even with writers busy during the load.

import CDC
import EventStore
import Foundation
import Testing

@Suite struct InitialLoadTests {
    static let setup = """
        CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 0);
        ALTER TABLE accounts REPLICA IDENTITY FULL;
        CREATE TABLE notes (id int PRIMARY KEY, body text, tags text[], at timestamptz);
        ALTER TABLE notes REPLICA IDENTITY FULL;
        CREATE TABLE skipped (id int PRIMARY KEY);
        CREATE PUBLICATION popsink FOR TABLE accounts, notes, skipped;
        INSERT INTO accounts SELECT g, 0 FROM generate_series(90000001, 90005000) g;
        INSERT INTO notes VALUES
            (1, E'tab\\there, newline\\n, backslash \\\\ and é', '{a,"b c",NULL}', '2026-11-24 10:00:00.5+02'),
            (2, NULL, '{}', NULL);
        INSERT INTO skipped VALUES (1);
        """

    @Test(.timeLimit(.minutes(3)))
    func existingRowsAreLoadedOnceThenTheStreamContinuesExactly() async throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        // Writers keep changing the table while the slot is created and loaded.
        let load = WriteLoad(postgres: harness.postgres, database: harness.database, writers: 2)
        try await Task.sleep(for: .milliseconds(300))
        try harness.capture(filter: TableFilter(excludeTables: ["skipped"]))
        await load.stop()
        try harness.capture(filter: TableFilter(excludeTables: ["skipped"]))

        let events = try harness.events()
        let reads = events.filter { $0.op == "r" }
        // Every read comes before every streamed change.
        let firstStreamed = events.firstIndex { $0.op != "r" } ?? events.count
        #expect(reads.count == firstStreamed)
        #expect(reads.allSatisfy { $0.source["snapshot"] as? Bool == true && $0.source["txid"] is NSNull })
        #expect(Set(reads.map(\.table)) == ["accounts", "notes"])
        #expect(Set(events.map(\.id)).count == events.count)
        #expect(reads.filter { $0.table == "accounts" }.count >= 5000)

        // Rows of the load, then the stream, rebuild the table exactly (also
        // the rows the writers changed while the load ran).
        let table = try harness.execute("SELECT id, balance, version FROM accounts")
        var expected: [Int: [Int]] = [:]
        for row in table.rows { expected[Int(row[0]!)!] = [Int(row[1]!)!, Int(row[2]!)!] }
        let rebuilt = rebuild(events, table: "accounts").mapValues {
            [intValue($0["balance"]) ?? -1, intValue($0["version"]) ?? -1]
        }
        #expect(rebuilt == expected)

        let note = try #require(reads.first { $0.table == "notes" && intValue($0.after?["id"]) == 1 })
        #expect(note.after?["body"] as? String == "tab\there, newline\n, backslash \\ and é")
        #expect((note.after?["tags"] as? [Any])?.count == 3)
        #expect(note.after?["at"] as? String == "2026-11-24T08:00:00.5Z")
        #expect(note.key?["id"] as? Int == 1)
        let empty = try #require(reads.first { $0.table == "notes" && intValue($0.after?["id"]) == 2 })
        #expect(empty.after?["body"] is NSNull)
    }

    @Test func noInitialLoadCapturesOnlyNewChanges() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        var config = try harness.config()
        config.initialLoad = false
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        try harness.execute("INSERT INTO accounts VALUES (9001, 1)")
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try harness.events().map(\.op) == ["c"])
    }

    @Test func anInterruptedLoadIsALoudFailure() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        let store = try EventStoreWriter(path: harness.storePath)
        try store.setMetadata("initial_load", "pending")  // as a crash half way leaves it
        store.close()
        guard case .failed(let error) = try harness.runToCurrent() else {
            Issue.record("an interrupted initial load must stop the pipeline")
            return
        }
        #expect(error.code == .initialLoadInterrupted)
        #expect(error.remediation?.contains("pg_drop_replication_slot") == true)
    }
}
