// Concurrent writers for the fault tests: each writer owns a range of ids and
// runs small transactions (insert, update, delete) until stopped. Ids are
// never reused, and each update bumps `version`, so the events of one key must
// form an exact chain: insert at version 0, one update per version, at most
// one delete at the end. Any lost, repeated or reordered event breaks it.

import Foundation
import PipelineTestSupport
import PostgresReplication
import PostgresTestSupport
import Synchronization
import Testing

final class WriteLoad: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let finished = LockedValue(0)
    private let failures = LockedValue<[String]>([])
    let writers: Int

    /// Starts `writers` threads writing to `accounts` in `database`. With
    /// `existing`, a third of the transactions also update one of those
    /// pre-existing ids (never delete them).
    init(
        postgres: TestPostgres, database: String, writers: Int, transactionsEach: Int? = nil,
        existing: ClosedRange<Int>? = nil
    ) {
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
                                statements.append(
                                    "UPDATE accounts SET balance = balance + 1, version = version + 1 WHERE id = \(id)")
                            } else {
                                let id = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                                statements.append("DELETE FROM accounts WHERE id = \(id)")
                            }
                        }
                        if let existing, Int.random(in: 0..<3, using: &rng) == 0 {
                            let id = Int.random(in: existing, using: &rng)
                            statements.append(
                                "UPDATE accounts SET balance = balance + 1, version = version + 1 WHERE id = \(id)")
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
///
/// Rows of the snapshot (`r`) start a chain at their version. A load
/// finished with watermarks (`resumedLoad`) may also stream an update of a
/// row before its `r`, and repeat an `r` at the chain's current version.
func verifyAccounts(
    _ events: [Event], harness: CaptureHarness, resumedLoad: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var check = AccountsCheck(resumedLoad: resumedLoad)
    for event in events { check.add(event) }
    try check.verify(harness: harness, sourceLocation: sourceLocation)
}

/// `verifyAccounts`, fed one event at a time, so a million events need not
/// be held parsed in memory.
struct AccountsCheck {
    let resumedLoad: Bool
    private var ids = Set<String>()
    private var repeatedIDs: [String] = []
    private var rows: [Int: [Int]] = [:]
    private var chains: [Int: (version: Int, deleted: Bool)] = [:]
    private var broken: [String] = []

    init(resumedLoad: Bool = false) {
        self.resumedLoad = resumedLoad
    }

    mutating func add(_ event: Event) {
        if !ids.insert(event.id).inserted { repeatedIDs.append(event.id) }
        guard event.table == "accounts" else { return }
        switch event.op {
        case "c", "r", "u":
            if event.op == "u", let old = intValue(event.before?["id"]) { rows[old] = nil }
            if let after = event.after, let id = intValue(after["id"]) {
                rows[id] = [intValue(after["balance"]) ?? -1, intValue(after["version"]) ?? -1]
            }
        case "d":
            if let id = intValue(event.before?["id"]) { rows[id] = nil }
        case "t":
            rows = [:]
        default:
            break
        }

        let image = event.op == "d" ? event.before : event.after
        guard let id = intValue(image?["id"]), let version = intValue(image?["version"]) else { return }
        let previous = chains[id]
        switch event.op {
        case "c" where previous == nil && version == 0: chains[id] = (0, false)
        case "r" where previous == nil: chains[id] = (version, false)
        case "r" where resumedLoad && previous?.deleted == false && previous?.version == version: break
        case "u" where resumedLoad && previous == nil: chains[id] = (version, false)
        case "u" where previous?.deleted == false && previous?.version == version - 1: chains[id] = (version, false)
        case "d" where previous?.deleted == false && previous?.version == version: chains[id] = (version, true)
        default:
            broken.append("\(event.id) \(event.op) id \(id) version \(version) after \(String(describing: previous))")
        }
    }

    func verify(harness: CaptureHarness, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(repeatedIDs.isEmpty, "event ids appear twice: \(repeatedIDs.prefix(5))", sourceLocation: sourceLocation)
        let table = try harness.execute("SELECT id, balance, version FROM accounts")
        var expected: [Int: [Int]] = [:]
        for row in table.rows {
            expected[Int(row[0]!)!] = [Int(row[1]!)!, Int(row[2]!)!]
        }
        #expect(
            rows.count == expected.count, "rebuilt \(rows.count) rows, the table has \(expected.count)",
            sourceLocation: sourceLocation)
        let mismatched = expected.filter { rows[$0.key] != $0.value }.map(\.key).sorted()
        #expect(
            mismatched.isEmpty, "rows differ from the table: \(mismatched.prefix(10))", sourceLocation: sourceLocation)
        #expect(broken.isEmpty, "per-key chains broken: \(broken.prefix(5))", sourceLocation: sourceLocation)
    }
}
