// What a column's type means for its JSON form (DESIGN section 5). A column's
// type OID is resolved to a ValueKind once per relation (CDC's `TableSchema`), and
// each value is then converted by kind, not by looking the OID up again.

/// How a value of some Postgres type is written as JSON.
public indirect enum ValueKind: Sendable, Hashable {
    /// `t`/`f` → true/false.
    case bool
    /// int2, int4, int8, oid, xid...: the text as a JSON number.
    case integer
    /// float4, float8: a JSON number; NaN and ±Infinity as strings.
    case float
    /// numeric: the exact text as a string (JSON numbers lose precision).
    case numeric
    /// Text-like types (text, varchar, uuid, inet, money, ...): a string.
    case text
    /// json, jsonb: the text embedded as JSON.
    case json
    /// bytea: base64 string.
    case bytea
    /// date: ISO 8601 string; BC years astronomically numbered.
    case date
    /// timestamp: ISO 8601 string without zone.
    case timestamp
    /// timestamptz: ISO 8601 string in UTC with `Z`.
    case timestamptz
    /// time: the text as a string.
    case time
    /// timetz: string with the offset as ±HH:MM.
    case timetz
    /// interval: the ISO 8601 duration Postgres prints with IntervalStyle iso_8601.
    case interval
    /// An array: a JSON array (nested per dimension) of elements of `element`.
    /// `delimiter` separates elements in the text form: `,` except for box (`;`).
    case array(element: ValueKind, delimiter: UInt8 = UInt8(ascii: ","))
    /// Any other type (enum, composite, range, geometric, tsvector, domain
    /// without a mapping, ...): the text as a string.
    case other
}

extension ValueKind {
    /// The kind of a built-in type, by `pg_type.oid`; nil if not built in.
    public static func builtin(oid: UInt32) -> ValueKind? {
        BuiltinTypes.byOID[oid]
    }

    /// The kind of a built-in type by its `pg_catalog` name (`int4`, `_int4`
    /// for its array), as a Type message names a domain's base type.
    public static func builtin(name: String) -> ValueKind? {
        BuiltinTypes.byName[name]
    }
}
