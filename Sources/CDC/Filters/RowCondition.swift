// A row condition: predicates on a table's columns ({column, op, value}),
// all of which a row must meet. It is the one form users give conditions in
// (a backfill's `where`, a managed publication's row filters), so no SQL text
// of theirs is ever pasted into a query: the column must be one of the
// table's, the operator one of a fixed list, and the value is data, rendered
// as a quoted literal of the column's type (`RowCondition+SQL.swift`).

/// The predicates a row must all meet (AND).
public struct RowCondition: Sendable, Hashable, Codable {
    public var predicates: [RowPredicate]

    public init(_ predicates: [RowPredicate]) { self.predicates = predicates }

    /// The columns it reads, in order of first use.
    public var columns: [String] {
        var seen = Set<String>()
        return predicates.map(\.column).filter { seen.insert($0).inserted }
    }
}

/// One `column op value` test.
public struct RowPredicate: Sendable, Hashable, Codable {
    public enum Operator: String, Sendable, Hashable, Codable, CaseIterable {
        case equal = "="
        case notEqual = "<>"
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case isNull = "is_null"
        case isNotNull = "is_not_null"
        case `in`
        case notIn = "not_in"
        case like

        /// Whether it compares with a value (else `value` must be absent).
        var takesValue: Bool { self != .isNull && self != .isNotNull }
        /// Whether its value is a list.
        var takesList: Bool { self == .in || self == .notIn }
    }

    /// A JSON scalar, kept as the text Postgres reads it from.
    public enum Value: Sendable, Hashable, Codable {
        case string(String)
        /// The number's JSON text, exact (`12`, `0.1`, `1e+20`).
        case number(String)
        case bool(Bool)

        /// The text of the literal.
        var text: String {
            switch self {
            case .string(let text), .number(let text): text
            case .bool(let value): value ? "true" : "false"
            }
        }
    }

    public var column: String
    public var op: Operator
    /// One value for a comparison, several for `in`/`not_in`, none for the null tests.
    public var values: [Value]

    public init(column: String, op: Operator, values: [Value] = []) {
        self.column = column
        self.op = op
        self.values = values
    }

    public init(_ column: String, _ op: Operator, _ value: Value) {
        self.init(column: column, op: op, values: [value])
    }
}
