// The built-in types the converter knows, with their pg_type OIDs and array
// type OIDs as PostgreSQL 15 reports them:
//   SELECT oid, typname, typarray, typdelim FROM pg_type
// These OIDs are fixed in the catalog (src/include/catalog/pg_type.dat) and
// the same in every release that has the type.

enum BuiltinTypes {
    /// (oid, name, array type oid, kind, array delimiter)
    private static let table: [(UInt32, String, UInt32, ValueKind, UInt8)] = [
        (16, "bool", 1000, .bool, comma),
        (17, "bytea", 1001, .bytea, comma),
        (18, "char", 1002, .text, comma),
        (19, "name", 1003, .text, comma),
        (20, "int8", 1016, .integer, comma),
        (21, "int2", 1005, .integer, comma),
        (23, "int4", 1007, .integer, comma),
        (25, "text", 1009, .text, comma),
        (26, "oid", 1028, .integer, comma),
        (28, "xid", 1011, .integer, comma),
        (29, "cid", 1012, .integer, comma),
        (114, "json", 199, .json, comma),
        (142, "xml", 143, .text, comma),
        (600, "point", 1017, .other, comma),
        (601, "lseg", 1018, .other, comma),
        (602, "path", 1019, .other, comma),
        (603, "box", 1020, .other, semicolon),
        (604, "polygon", 1027, .other, comma),
        (628, "line", 629, .other, comma),
        (650, "cidr", 651, .text, comma),
        (700, "float4", 1021, .float, comma),
        (701, "float8", 1022, .float, comma),
        (718, "circle", 719, .other, comma),
        (774, "macaddr8", 775, .text, comma),
        (790, "money", 791, .text, comma),
        (829, "macaddr", 1040, .text, comma),
        (869, "inet", 1041, .text, comma),
        (1042, "bpchar", 1014, .text, comma),
        (1043, "varchar", 1015, .text, comma),
        (1082, "date", 1182, .date, comma),
        (1083, "time", 1183, .time, comma),
        (1114, "timestamp", 1115, .timestamp, comma),
        (1184, "timestamptz", 1185, .timestamptz, comma),
        (1186, "interval", 1187, .interval, comma),
        (1266, "timetz", 1270, .timetz, comma),
        (1560, "bit", 1561, .text, comma),
        (1562, "varbit", 1563, .text, comma),
        (1700, "numeric", 1231, .numeric, comma),
        (2205, "regclass", 2210, .text, comma),
        (2206, "regtype", 2211, .text, comma),
        (2950, "uuid", 2951, .text, comma),
        (3220, "pg_lsn", 3221, .text, comma),
        (3614, "tsvector", 3643, .other, comma),
        (3615, "tsquery", 3645, .other, comma),
        (3802, "jsonb", 3807, .json, comma),
        (3904, "int4range", 3905, .other, comma),
        (3906, "numrange", 3907, .other, comma),
        (3908, "tsrange", 3909, .other, comma),
        (3910, "tstzrange", 3911, .other, comma),
        (3912, "daterange", 3913, .other, comma),
        (3926, "int8range", 3927, .other, comma),
        (4072, "jsonpath", 4073, .text, comma),
        (5069, "xid8", 271, .integer, comma),
    ]

    private static let comma = UInt8(ascii: ",")
    private static let semicolon = UInt8(ascii: ";")

    static let byOID: [UInt32: ValueKind] = {
        var kinds: [UInt32: ValueKind] = [:]
        for (oid, _, arrayOID, kind, delimiter) in table {
            kinds[oid] = kind
            kinds[arrayOID] = .array(element: kind, delimiter: delimiter)
        }
        return kinds
    }()

    static let byName: [String: ValueKind] = {
        var kinds: [String: ValueKind] = [:]
        for (_, name, _, kind, delimiter) in table {
            kinds[name] = kind
            kinds["_" + name] = .array(element: kind, delimiter: delimiter)
        }
        return kinds
    }()
}
