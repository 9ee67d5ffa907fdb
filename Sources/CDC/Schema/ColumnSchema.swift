// One column of a captured table as the schema registry and the `s` events
// describe it: what pgoutput's Relation message says (name, type OID and
// modifier), the type's name as Postgres writes it (`numeric(12,2)`), whether
// the column is part of the event's `key`, and what the catalog knew about
// nullability and the default when the relation was resolved.

/// A column of one version of a table.
struct ColumnSchema: Equatable, Sendable, Codable {
    var name: String
    var typeOID: UInt32
    /// `pg_attribute.atttypmod`, -1 when the type has none.
    var typeModifier: Int32
    /// `format_type(oid, modifier)`: `integer`, `numeric(12,2)`, `character varying(80)`.
    var typeName: String
    var isKey: Bool
    /// nil when the catalog no longer had the column (a later DDL renamed or dropped it).
    var isNullable: Bool?
    /// The default expression, nil when there is none or it is not known.
    var defaultExpression: String?
    /// `pg_attribute.attnum`: the column's identity across renames and type
    /// changes, which lets `SchemaDiff` tell a rename exactly. nil when not
    /// known (versions stored before it was recorded). Kept in the store,
    /// not shown in events.
    var attnum: Int16? = nil
    /// True for a column the table gained while `new_columns: exclude` held
    /// it back (`ColumnMask`): it exists, its values are not sent.
    var isExcluded: Bool? = nil

    enum CodingKeys: String, CodingKey {
        case name
        case typeName = "type"
        case typeOID = "type_oid"
        case typeModifier = "type_modifier"
        case isKey = "key"
        case isNullable = "nullable"
        case defaultExpression = "default"
        case attnum
        case isExcluded = "excluded"
    }

    /// Same name, type and key flag: what a new version is made of. Nullability
    /// and defaults are read from the catalog when the Relation message is
    /// resolved, which may already be ahead of the WAL being decoded, so they
    /// are reported but do not make versions on their own.
    func hasSameShape(as other: ColumnSchema) -> Bool {
        name == other.name && hasSameType(as: other) && isKey == other.isKey
            && (isExcluded ?? false) == (other.isExcluded ?? false)
    }

    func hasSameType(as other: ColumnSchema) -> Bool {
        typeOID == other.typeOID && typeModifier == other.typeModifier
    }
}

extension [ColumnSchema] {
    func hasSameShape(as other: [ColumnSchema]) -> Bool {
        count == other.count && zip(self, other).allSatisfy { $0.hasSameShape(as: $1) }
    }

    var keyNames: [String] { filter(\.isKey).map(\.name) }
}
