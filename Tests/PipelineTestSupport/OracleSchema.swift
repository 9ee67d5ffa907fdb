// The oracle's tables. `oracle_items` holds rows with a version that every
// update bumps (ids 1...sharedRows are preloaded and updated by every writer);
// `oracle_notes` is insert-only; `oracle_commits` gets one row per committed
// oracle transaction, written by the transaction itself, so it is the
// source's own record of what committed. All three are published.

public enum OracleSchema {
    /// Preloaded rows of `oracle_items` (writer 0) that every writer updates.
    public static let sharedRows = 8

    /// Creates the tables and the publication `popsink`, with `preloadedRows`
    /// rows in `oracle_items` (at least `sharedRows`) for an initial load to read.
    public static func setup(preloadedRows: Int = sharedRows) -> String {
        """
        CREATE TABLE oracle_items (id bigint PRIMARY KEY, writer int NOT NULL, version int NOT NULL, pad text);
        CREATE TABLE oracle_notes (id bigint PRIMARY KEY, writer int NOT NULL, body text);
        CREATE TABLE oracle_commits (writer int NOT NULL, seq int NOT NULL, PRIMARY KEY (writer, seq));
        ALTER TABLE oracle_items REPLICA IDENTITY FULL;
        ALTER TABLE oracle_notes REPLICA IDENTITY FULL;
        ALTER TABLE oracle_commits REPLICA IDENTITY FULL;
        INSERT INTO oracle_items SELECT g, 0, 0, repeat('p', 200) FROM generate_series(1, \(max(sharedRows, preloadedRows))) g;
        CREATE PUBLICATION popsink FOR TABLE oracle_items, oracle_notes, oracle_commits;
        """
    }

    /// Writers' ids start far apart so they never collide.
    static func firstID(writer: Int) -> Int { writer * 1_000_000_000 + 1 }

    /// The single integer a row of `oracle_commits` is known by.
    public static func commitMarker(writer: Int, seq: Int) -> Int { writer * 1_000_000_000 + seq }
}
