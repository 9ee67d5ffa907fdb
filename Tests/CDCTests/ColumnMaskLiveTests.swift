// Column masking end to end against the throwaway Postgres: the snapshot's
// rows, streamed inserts, updates and deletes (before images and keys), and
// the backfill of a table added later, all with the excluded column absent
// and the hashed ones replaced, equal values hashing equally across load and
// stream; the original values appear in no stored event and in neither of the
// store's files.

import Foundation
import PipelineTestSupport
import Testing

@testable import CDC

@Suite struct ColumnMaskLiveTests {
    static let key = "live-test-key-0123456789"

    static func hash(_ text: String) -> String {
        let digest = Array(text.utf8).withUnsafeBytes { HMACKey(Array(key.utf8)).hexDigest($0) }
        return String(decoding: digest, as: UTF8.self)
    }

    @Test(.timeLimit(.minutes(4)))
    func loadStreamAndBackfillAreMasked() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE users (id int PRIMARY KEY, email text, ssn text NOT NULL, note text);
                ALTER TABLE users REPLICA IDENTITY FULL;
                INSERT INTO users SELECT g, 'u' || g || '@' || md5(g::text || 'mail') || '.example',
                    'ssn-' || md5(g::text || 'ssn'), 'first'
                FROM generate_series(1, 200) g;
                CREATE TABLE accounts (id int PRIMARY KEY, code text);
                ALTER TABLE accounts REPLICA IDENTITY FULL;
                INSERT INTO accounts SELECT g, 'code-' || md5(g::text || 'code') FROM generate_series(1, 100) g;
                CREATE PUBLICATION popsink FOR TABLE users;
                """)
        defer { harness.cleanUp() }
        var config = try harness.config()
        config.snapshot = SnapshotOptions(workers: 2, chunkPages: 1, rowsPerGroup: 50)
        config.columnMask = ColumnMask(
            exclude: ["public.users.ssn"], hash: ["email", "accounts.code"], hashKey: Self.key)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)

        try harness.execute(
            """
            UPDATE users SET note = 'second' WHERE id <= 20;
            UPDATE users SET email = 'changed-' || md5(id::text) || '@x.example' WHERE id = 21;
            DELETE FROM users WHERE id = 200;
            INSERT INTO users VALUES (201, 'new-' || md5('201') || '@x.example', 'ssn-' || md5('201ssn'), 'third');
            ALTER PUBLICATION popsink ADD TABLE accounts;
            """)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)

        let sources = try harness.execute("SELECT id, email, ssn FROM users").rows
        let accounts = try harness.execute("SELECT id, code FROM accounts").rows
        let secrets = sources.compactMap { $0[2] } + sources.compactMap { $0[1] } + accounts.compactMap { $0[1] }
        let emails = Dictionary(uniqueKeysWithValues: sources.map { (Int($0[0]!)!, $0[1]!) })
        let codes = Dictionary(uniqueKeysWithValues: accounts.map { (Int($0[0]!)!, $0[1]!) })

        let events = try harness.allEvents()
        var byOperation: [String: Int] = [:]
        var hashesByID: [Int: Set<String>] = [:]
        for event in events where event.table == "users" {
            byOperation[event.op, default: 0] += 1
            if event.op == "s" {
                let masked = event.json["masked"] as? [String: Any]
                #expect(masked?["excluded"] as? [String] == ["ssn"])
                #expect(masked?["hashed"] as? [String] == ["email"])
                continue
            }
            for image in [event.after, event.before, event.key].compactMap({ $0 }) {
                #expect(image["ssn"] == nil, "\(event.id) carries ssn")
                guard let id = intValue(image["id"]), let email = image["email"] as? String else { continue }
                hashesByID[id, default: []].insert(email)
            }
        }
        #expect(byOperation["r"] == 200)
        #expect(byOperation["u"] == 21)
        #expect(byOperation["d"] == 1)
        #expect(byOperation["c"] == 1)
        // Loaded and streamed images of an unchanged email hash alike.
        for id in 1...20 { #expect(hashesByID[id] == [Self.hash(emails[id]!)], "id \(id)") }
        #expect(hashesByID[21]?.contains(Self.hash(emails[21]!)) == true)
        #expect(hashesByID[21]?.count == 2)
        #expect(hashesByID[201] == [Self.hash(emails[201]!)])

        let backfilled = events.filter { $0.table == "accounts" && $0.op == "r" }
        #expect(backfilled.count == 100)
        for event in backfilled {
            let id = try #require(intValue(event.after?["id"]))
            #expect(event.after?["code"] as? String == Self.hash(codes[id]!))
        }

        // No original value in any event, nor anywhere in the store's files.
        let bodies = events.map {
            String(decoding: try! JSONSerialization.data(withJSONObject: $0.json), as: UTF8.self)
        }
        .joined(separator: "\n")
        let leaked = secrets.filter { bodies.contains($0) }
        #expect(leaked.isEmpty, "original values in events: \(leaked.prefix(3))")
        var files = Data()
        for suffix in ["", "-wal", "-shm"] {
            files.append((try? Data(contentsOf: URL(fileURLWithPath: harness.storePath + suffix))) ?? Data())
        }
        let onDisk = secrets.filter { files.range(of: Data($0.utf8)) != nil }
        #expect(onDisk.isEmpty, "original values in the store's files: \(onDisk.prefix(3))")
    }

    /// A transaction Postgres streams before its commit is encoded as it
    /// arrives (templates moved into the store at commit): its events are
    /// masked like any other.
    @Test(.timeLimit(.minutes(4)))
    func aStreamedTransactionIsMasked() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE users (id int PRIMARY KEY, email text, ssn text NOT NULL);
                ALTER TABLE users REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE users;
                """)
        defer { harness.cleanUp() }
        var config = try harness.config()
        config.source["options"] = HeavyTests.StreamingTests.streamEarly
        config.columnMask = ColumnMask(exclude: ["ssn"], hash: ["email"], hashKey: Self.key)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        try harness.execute(
            """
            BEGIN;
            INSERT INTO users SELECT g, 'e' || g || '@' || md5(g::text) || '.example', 'ssn-' || md5(g::text || 's')
            FROM generate_series(1, 5000) g;
            UPDATE users SET email = 'x' || email WHERE id <= 100;
            COMMIT;
            """)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(
            try HeavyTests.StreamingTests.streamedTransactions(harness) >= 1, "Postgres did not stream the transaction")

        let emails = Dictionary(
            uniqueKeysWithValues: try harness.execute("SELECT id, email FROM users").rows.map {
                (Int($0[0]!)!, $0[1]!)
            })
        let changes = try harness.allEvents().filter { $0.table == "users" && $0.op != "s" }
        #expect(changes.count == 5100)
        for event in changes {
            for image in [event.after, event.before, event.key].compactMap({ $0 }) {
                #expect(image["ssn"] == nil, "\(event.id) carries ssn")
            }
        }
        for event in changes where event.op == "u" {
            let id = try #require(intValue(event.after?["id"]))
            #expect(event.after?["email"] as? String == Self.hash(emails[id]!), "id \(id)")
        }
    }

    /// `redact` and `truncate` through every path: the load, streamed
    /// updates and deletes (before images and keys), a transaction Postgres
    /// streams before its commit (encoded on arrival), and the backfill of a
    /// table added later; no original value in the store's files.
    @Test(.timeLimit(.minutes(4)))
    func redactAndTruncateInLoadStreamStreamedTransactionAndBackfill() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE users (id int, ssn text, note text, PRIMARY KEY (id, ssn));
                ALTER TABLE users REPLICA IDENTITY FULL;
                INSERT INTO users SELECT g, 'ssn-' || md5(g::text || 'ssn'), 'nöte-' || md5(g::text || 'n')
                FROM generate_series(1, 100) g;
                CREATE TABLE accounts (id int PRIMARY KEY, code text);
                ALTER TABLE accounts REPLICA IDENTITY FULL;
                INSERT INTO accounts SELECT g, 'cöde-' || md5(g::text || 'code') FROM generate_series(1, 50) g;
                CREATE PUBLICATION popsink FOR TABLE users;
                """)
        defer { harness.cleanUp() }
        var config = try harness.config()
        config.source["options"] = HeavyTests.StreamingTests.streamEarly
        config.snapshot = SnapshotOptions(workers: 2, chunkPages: 1, rowsPerGroup: 50)
        config.columnMask = ColumnMask(
            redact: ["users.ssn"], truncate: ["note": 5, "accounts.code": 2], hashKey: Self.key)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        try harness.execute(
            """
            UPDATE users SET note = 'nöte-' || md5(id::text || 'again') WHERE id <= 10;
            DELETE FROM users WHERE id = 100;
            BEGIN;
            INSERT INTO users SELECT g, 'ssn-' || md5(g::text || 'ssn'), 'nöte-' || md5(g::text || 'n')
            FROM generate_series(101, 3000) g;
            UPDATE users SET note = 'nöte-' || md5(id::text || 'big') WHERE id BETWEEN 101 AND 150;
            COMMIT;
            ALTER PUBLICATION popsink ADD TABLE accounts;
            """)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(
            try HeavyTests.StreamingTests.streamedTransactions(harness) >= 1, "Postgres did not stream the transaction")

        let users = try harness.execute("SELECT ssn, note FROM users").rows
        let codes = try harness.execute("SELECT code FROM accounts").rows
        let secrets = (users.flatMap { [$0[0]!, $0[1]!] } + codes.map { $0[0]! }).map { String($0.suffix(32)) }

        let events = try harness.allEvents()
        var counts: [String: Int] = [:]
        for event in events where event.op != "s" && event.op != "m" {
            counts[event.table + "." + event.op, default: 0] += 1
            for image in [event.after, event.before, event.key].compactMap({ $0 }) {
                if event.table == "users" {
                    #expect(image["ssn"] as? String == ColumnMask.placeholder, "\(event.id)")
                    if let note = image["note"] { #expect(note as? String == "nöte-", "\(event.id)") }
                } else {
                    if let code = image["code"] { #expect(code as? String == "cö", "\(event.id)") }
                }
            }
        }
        #expect(counts["users.r"] == 100)
        #expect(counts["users.u"] == 60)
        #expect(counts["users.d"] == 1)
        #expect(counts["users.c"] == 2900)
        #expect(counts["accounts.r"] == 50)
        let schema = try #require(events.last { $0.table == "users" && $0.op == "s" })
        let masked = schema.json["masked"] as? [String: Any]
        #expect(masked?["redacted"] as? [String] == ["ssn"])
        #expect(masked?["truncated"] as? [String: Int] == ["note": 5])

        var files = Data()
        for suffix in ["", "-wal", "-shm"] {
            files.append((try? Data(contentsOf: URL(fileURLWithPath: harness.storePath + suffix))) ?? Data())
        }
        let onDisk = secrets.filter { files.range(of: Data($0.utf8)) != nil }
        #expect(onDisk.isEmpty, "original values in the store's files: \(onDisk.prefix(3))")
    }
}
