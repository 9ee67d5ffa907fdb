// Checks a consumer's view of the stream (the events in the order it saw
// them) against what the oracle's writers did and what the source holds:
//
// - every event id once;
// - each streamed transaction whole, contiguous, in commit order (commit LSNs
//   strictly increasing), never twice;
// - each one an oracle transaction that committed (its `oracle_commits` row
//   exists), carrying exactly the ledger's changes in statement order: nothing
//   of a rolled-back transaction or savepoint;
// - every committed transaction present, streamed or (committed before the
//   slot's snapshot) read by the load, which shows as its `oracle_commits` row;
// - per key, the versions form a chain (insert at 0, +1 per update, delete at
//   the last version);
// - the rows rebuilt from the events equal the source tables.

import Foundation
import PostgresTestSupport
import PostgresWire
import Testing

public struct OracleVerdict: Sendable, CustomStringConvertible {
    public var transactions = 0
    public var changes = 0
    public var loadedRows = 0
    public var problems: [String] = []

    public var description: String {
        "\(transactions) transactions, \(changes) streamed changes, \(loadedRows) loaded rows checked: "
            + (problems.isEmpty ? "ok" : "\(problems.count) problems, first: \(problems.prefix(5))")
    }
}

public struct OracleCheck {
    public let ledger: OracleLedger
    public let postgres: TestPostgres
    public let database: String
    /// A load resumed after an interruption finishes with watermarks: a row
    /// may then be updated or deleted in the stream before (or instead of)
    /// its `r` event, and an `r` may repeat a row's current version.
    public var resumedLoad = false

    public init(ledger: OracleLedger, postgres: TestPostgres, database: String, resumedLoad: Bool = false) {
        self.ledger = ledger
        self.postgres = postgres
        self.database = database
        self.resumedLoad = resumedLoad
    }

    /// Checks and records an issue per problem; prints a one-line summary under `scenario`.
    @discardableResult
    public func verify(
        _ events: [Event], scenario: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> OracleVerdict {
        let verdict = try check(events)
        print("oracle: \(scenario): \(verdict)")
        #expect(verdict.problems.isEmpty, "\(scenario): \(verdict)", sourceLocation: sourceLocation)
        #expect(verdict.transactions > 0, "\(scenario): no transaction was checked", sourceLocation: sourceLocation)
        return verdict
    }

    public func check(_ events: [Event]) throws -> OracleVerdict {
        var verdict = OracleVerdict()
        let transactions = ledger.transactions
        let committed = try committedInSource()
        for (id, transaction) in transactions where transaction.outcome == .committed && !committed.contains(id) {
            verdict.problems.append("oracle fault: \(id) committed but has no oracle_commits row")
        }

        var rebuilt = RebuiltTables(resumedLoad: resumedLoad)
        var ids = Set<String>()
        var streamed = Set<OracleTransactionID>()
        var loaded = Set<OracleTransactionID>()
        var seenCommitLSNs = Set<LSN>()
        var lastCommitLSN: LSN?
        var group: (lsn: LSN, events: [Event])?

        func close(_ group: (lsn: LSN, events: [Event])) {
            let changes = group.events.compactMap(Self.change)
            let markers = changes.filter { $0.table == "oracle_commits" }
            guard markers.count == 1, let marker = markers.first else {
                verdict.problems.append("transaction at \(group.lsn) has \(markers.count) oracle_commits rows")
                return
            }
            let id = OracleTransactionID(writer: marker.id / 1_000_000_000, seq: marker.id % 1_000_000_000)
            verdict.transactions += 1
            verdict.changes += changes.count
            if !streamed.insert(id).inserted { verdict.problems.append("\(id) streamed twice") }
            guard committed.contains(id), let expected = transactions[id] else {
                verdict.problems.append("\(id) at \(group.lsn) is in the stream but never committed")
                return
            }
            if changes != expected.changes {
                let index =
                    zip(changes, expected.changes).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(changes.count, expected.changes.count)
                verdict.problems.append(
                    "\(id) at \(group.lsn): \(changes.count) changes, the ledger has \(expected.changes.count); "
                        + "first difference at \(index): stream \(changes.dropFirst(index).first.map(String.init(describing:)) ?? "none"), "
                        + "ledger \(expected.changes.dropFirst(index).first.map(String.init(describing:)) ?? "none")")
            }
        }

        for event in events where event.op != "s" && event.op != "m" {
            if !ids.insert(event.id).inserted { verdict.problems.append("event id \(event.id) appears twice") }
            rebuilt.apply(event)
            if event.op == "r" {
                verdict.loadedRows += 1
                if let change = Self.change(event), change.table == "oracle_commits" {
                    loaded.insert(
                        OracleTransactionID(writer: change.id / 1_000_000_000, seq: change.id % 1_000_000_000))
                }
                continue
            }
            guard let text = event.source["commit_lsn"] as? String, let lsn = LSN(text) else {
                verdict.problems.append("event \(event.id) has no commit_lsn")
                continue
            }
            if let current = group, current.lsn == lsn {
                group?.events.append(event)
                continue
            }
            if let current = group { close(current) }
            if let lastCommitLSN, lsn <= lastCommitLSN {
                verdict.problems.append(
                    "transaction at \(lsn) comes after one at \(lastCommitLSN): out of commit order")
            }
            if !seenCommitLSNs.insert(lsn).inserted {
                verdict.problems.append("transaction at \(lsn) is split or repeated")
            }
            lastCommitLSN = lsn
            group = (lsn, [event])
        }
        if let current = group { close(current) }

        let lost = committed.subtracting(streamed).subtracting(loaded).sorted()
        if !lost.isEmpty { verdict.problems.append("\(lost.count) committed transactions missing: \(lost.prefix(5))") }
        if !resumedLoad {
            let both = streamed.intersection(loaded).sorted()
            if !both.isEmpty {
                verdict.problems.append("\(both.count) transactions both loaded and streamed: \(both.prefix(5))")
            }
        }
        verdict.problems += rebuilt.problems
        verdict.problems += try rebuilt.compare(with: postgres, database: database)
        return verdict
    }

    private func committedInSource() throws -> Set<OracleTransactionID> {
        let rows = try postgres.execute("SELECT writer, seq FROM oracle_commits", database: database).rows
        return Set(rows.map { OracleTransactionID(writer: Int($0[0]!)!, seq: Int($0[1]!)!) })
    }

    /// The change an event carries, in the ledger's terms.
    static func change(_ event: Event) -> OracleChange? {
        let image = event.op == "d" ? event.before : event.after
        guard let image else { return nil }
        switch event.table {
        case "oracle_items":
            guard let id = intValue(image["id"]), let version = intValue(image["version"]) else { return nil }
            return OracleChange(table: event.table, op: event.op, id: id, version: version)
        case "oracle_notes":
            guard let id = intValue(image["id"]) else { return nil }
            return OracleChange(table: event.table, op: event.op, id: id, version: 0)
        case "oracle_commits":
            guard let writer = intValue(image["writer"]), let seq = intValue(image["seq"]) else { return nil }
            return OracleChange(
                table: event.table, op: event.op, id: OracleSchema.commitMarker(writer: writer, seq: seq), version: 0)
        default:
            return nil
        }
    }
}

/// The oracle tables as a consumer applying the events holds them, with each
/// `oracle_items` key's version chain checked on the way.
struct RebuiltTables {
    let resumedLoad: Bool
    var items: [Int: Int] = [:]
    var notes = Set<Int>()
    var commits = Set<Int>()
    private var chains: [Int: (version: Int, deleted: Bool)] = [:]
    private(set) var problems: [String] = []

    init(resumedLoad: Bool) { self.resumedLoad = resumedLoad }

    mutating func apply(_ event: Event) {
        guard let change = OracleCheck.change(event) else { return }
        switch change.table {
        case "oracle_items":
            if change.op == "d" { items[change.id] = nil } else { items[change.id] = change.version }
            chain(change, eventID: event.id)
        case "oracle_notes":
            if change.op == "d" { notes.remove(change.id) } else { notes.insert(change.id) }
        case "oracle_commits":
            if change.op == "d" { commits.remove(change.id) } else { commits.insert(change.id) }
        default:
            break
        }
    }

    private mutating func chain(_ change: OracleChange, eventID: String) {
        let previous = chains[change.id]
        let version = change.version
        switch change.op {
        case "c" where previous == nil && version == 0: chains[change.id] = (0, false)
        case "r" where previous == nil: chains[change.id] = (version, false)
        case "r" where resumedLoad && previous?.deleted == false && previous?.version == version: break
        // Streamed before the row's piece was read (which then no longer holds it, or holds it newer).
        case "u" where resumedLoad && previous == nil: chains[change.id] = (version, false)
        case "d" where resumedLoad && previous == nil: chains[change.id] = (version, true)
        case "u" where previous?.deleted == false && previous?.version == version - 1:
            chains[change.id] = (version, false)
        case "d" where previous?.deleted == false && previous?.version == version: chains[change.id] = (version, true)
        default:
            problems.append(
                "key \(change.id): \(change.op) at version \(version) (event \(eventID)) after \(String(describing: previous))"
            )
        }
    }

    /// Differences between the rebuilt tables and the source's.
    func compare(with postgres: TestPostgres, database: String) throws -> [String] {
        var problems: [String] = []
        var sourceItems: [Int: Int] = [:]
        for row in try postgres.execute("SELECT id, version FROM oracle_items", database: database).rows {
            sourceItems[Int(row[0]!)!] = Int(row[1]!)!
        }
        if sourceItems != items {
            let differing = Set(sourceItems.keys).union(items.keys).filter { sourceItems[$0] != items[$0] }.sorted()
            problems.append(
                "oracle_items: rebuilt \(items.count) rows, the source has \(sourceItems.count); differing ids \(differing.prefix(5))"
            )
        }
        let sourceNotes = Set(
            try postgres.execute("SELECT id FROM oracle_notes", database: database).rows.map { Int($0[0]!)! })
        if sourceNotes != notes {
            problems.append("oracle_notes: rebuilt \(notes.count) rows, the source has \(sourceNotes.count)")
        }
        let sourceCommits = Set(
            try postgres.execute("SELECT writer, seq FROM oracle_commits", database: database).rows.map {
                OracleSchema.commitMarker(writer: Int($0[0]!)!, seq: Int($0[1]!)!)
            })
        if sourceCommits != commits {
            problems.append("oracle_commits: rebuilt \(commits.count) rows, the source has \(sourceCommits.count)")
        }
        return problems
    }
}

extension Event {
    /// An event as a consumer read it from a JSON line (`run --output`, SSE data).
    public init(line: some StringProtocol, sequence: Int64 = 0) throws {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        json = try #require(object as? [String: Any], "not a JSON object: \(line.prefix(200))")
        id = json["id"] as? String ?? ""
        self.sequence = sequence
    }
}
