// Concurrent writers for the fault tests: each writer owns a range of ids and
// runs small transactions (insert, update, delete) until stopped. Ids are
// never reused, and each update bumps `version`, so the events of one key must
// form an exact chain: insert at version 0, one update per version, at most
// one delete at the end. Any lost, repeated or reordered event breaks it.

import Foundation
import PostgresReplication
import PostgresTestSupport
import Synchronization
import Testing

final class WriteLoad: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let finished = LockedValue(0)
    private let failures = LockedValue<[String]>([])
    let writers: Int

    /// Starts `writers` threads writing to `accounts` in `database`.
    init(postgres: TestPostgres, database: String, writers: Int, transactionsEach: Int? = nil) {
        self.writers = writers
        for writer in 0..<writers {
            let thread = Thread { [self] in
                do {
                    let connection = try postgres.connect(database: database)
                    var rng = SystemRandomNumberGenerator()
                    var live: [Int] = []
                    var next = writer * 10_000_000 + 1
                    var done = 0
                    while !stopFlag.load(ordering: .relaxed), transactionsEach.map({ done < $0 }) ?? true {
                        var statements = ["BEGIN"]
                        for _ in 0..<Int.random(in: 1...4, using: &rng) {
                            let choice = live.isEmpty ? 0 : Int.random(in: 0..<10, using: &rng)
                            if choice < 4 {
                                statements.append("INSERT INTO accounts (id, balance) VALUES (\(next), \(next % 97))")
                                live.append(next)
                                next += 1
                            } else if choice < 9 {
                                let id = live[Int.random(in: 0..<live.count, using: &rng)]
                                statements.append("UPDATE accounts SET balance = balance + 1, version = version + 1 WHERE id = \(id)")
                            } else {
                                let id = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                                statements.append("DELETE FROM accounts WHERE id = \(id)")
                            }
                        }
                        statements.append("COMMIT")
                        try connection.query(statements.joined(separator: "; "))
                        done += 1
                    }
                } catch {
                    failures.withLock { $0.append("writer \(writer): \(error)") }
                }
                finished.withLock { $0 += 1 }
            }
            thread.start()
        }
    }

    /// Asks the writers to stop and waits for them; records their errors.
    func stop() async {
        stopFlag.store(true, ordering: .relaxed)
        await waitUntilFinished()
    }

    func waitUntilFinished() async {
        while finished.withLock({ $0 }) < writers {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for failure in failures.withLock({ $0 }) { Issue.record("write load failed: \(failure)") }
    }
}

/// Checks the stored events of `accounts` against the table: the rebuild
/// equals the final content, ids are unique, and each key's events form the
/// exact chain the write load produces.
func verifyAccounts(_ events: [Event], harness: CaptureHarness, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(Set(events.map(\.id)).count == events.count, "an event id appears twice", sourceLocation: sourceLocation)

    let table = try harness.execute("SELECT id, balance, version FROM accounts")
    var expected: [Int: [Int]] = [:]
    for row in table.rows {
        expected[Int(row[0]!)!] = [Int(row[1]!)!, Int(row[2]!)!]
    }
    let rebuilt = rebuild(events, table: "accounts").mapValues {
        [intValue($0["balance"]) ?? -1, intValue($0["version"]) ?? -1]
    }
    #expect(rebuilt.count == expected.count, "rebuilt \(rebuilt.count) rows, the table has \(expected.count)",
            sourceLocation: sourceLocation)
    let mismatched = expected.filter { rebuilt[$0.key] != $0.value }.map(\.key).sorted()
    #expect(mismatched.isEmpty, "rows differ from the table: \(mismatched.prefix(10))", sourceLocation: sourceLocation)

    var chains: [Int: (version: Int, deleted: Bool)] = [:]
    var broken: [String] = []
    for event in events where event.table == "accounts" {
        let image = event.op == "d" ? event.before : event.after
        guard let id = intValue(image?["id"]), let version = intValue(image?["version"]) else { continue }
        let previous = chains[id]
        switch event.op {
        case "c" where previous == nil && version == 0: chains[id] = (0, false)
        case "u" where previous?.deleted == false && previous?.version == version - 1: chains[id] = (version, false)
        case "d" where previous?.deleted == false && previous?.version == version: chains[id] = (version, true)
        default: broken.append("\(event.id) \(event.op) id \(id) version \(version) after \(String(describing: previous))")
        }
    }
    #expect(broken.isEmpty, "per-key chains broken: \(broken.prefix(5))", sourceLocation: sourceLocation)
}
