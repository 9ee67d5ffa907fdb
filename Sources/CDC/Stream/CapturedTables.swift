// The set of tables a pipeline captures: those its publication publishes and
// its filter selects. The store keeps the set as of its checkpoint, so a
// session that finds another set (a table added to or removed from the
// publication, created under FOR ALL TABLES / FOR TABLES IN SCHEMA, dropped,
// or included or excluded by new filters) knows what changed, even across a
// restart, and announces it (`TableSetChange`).

import EventStore
import PostgresReplication

struct CapturedTables: Equatable, Sendable {
    /// The store's metadata key of the set as of its checkpoint.
    static let metadataKey = "captured_tables"

    /// `schema.table` names, sorted.
    let names: [String]

    init(_ names: some Sequence<String>) {
        self.names = Array(Set(names)).sorted()
    }

    /// What `current` adds to and removes from `self`.
    func difference(to current: CapturedTables) -> (added: [String], removed: [String]) {
        let before = Set(names)
        let after = Set(current.names)
        return (current.names.filter { !before.contains($0) }, names.filter { !after.contains($0) })
    }

    /// One name a line, backslashes and newlines escaped (quoted identifiers may hold either).
    var stored: String {
        names.map { $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n") }
            .joined(separator: "\n")
    }

    init(stored: String) {
        var names: [String] = []
        for line in stored.split(separator: "\n", omittingEmptySubsequences: true) {
            var name = ""
            var escaped = false
            for character in line {
                if escaped {
                    name.append(character == "n" ? "\n" : character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else {
                    name.append(character)
                }
            }
            names.append(name)
        }
        self.init(names)
    }

    /// The set the store recorded; nil for a store that never recorded one.
    static func stored(in store: EventStoreWriter) throws -> CapturedTables? {
        try store.metadata(metadataKey).map { CapturedTables(stored: $0) }
    }

    /// What `publication` publishes now and `filter` selects, read over `connection`.
    static func current(
        publication: String, filter: TableFilter, connection: PostgresConnection
    ) throws -> CapturedTables {
        let rows = try connection.query(
            "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1", [publication]
        ).rows
        let ancestry = try PartitionAncestry.read(over: connection)
        return CapturedTables(
            rows.compactMap { row -> String? in
                guard let schema = row[0], let table = row[1],
                    filter.selects(
                        schema: schema, table: table, ancestors: ancestry.ancestors(schema: schema, table: table))
                else { return nil }
                return schema + "." + table
            })
    }
}
