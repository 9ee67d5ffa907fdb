// Resolves column type OIDs to ValueKinds: built-in OIDs from the table in
// BuiltinTypes, user types from what the caller registers (from the catalog,
// or from pgoutput's Type messages). Unknown OIDs are `.other`: their text as
// a JSON string, which is never wrong, only less typed.

/// Type OID → ValueKind, built-in types plus caller-registered ones.
public struct TypeRegistry: Sendable {
    /// Kinds registered for OIDs; they take precedence over built-in kinds.
    public private(set) var custom: [UInt32: ValueKind]

    /// A registry knowing the built-in types and `custom`.
    public init(custom: [UInt32: ValueKind] = [:]) {
        self.custom = custom
    }

    /// The kind for `oid`: registered, else built-in, else `.other`.
    public func kind(for oid: UInt32) -> ValueKind {
        custom[oid] ?? ValueKind.builtin(oid: oid) ?? .other
    }

    /// The kind for `oid`, as `kind(for:)`.
    public subscript(oid: UInt32) -> ValueKind { kind(for: oid) }

    /// The kinds of a relation's columns, in column order: resolve once per
    /// Relation message, then convert each value by index.
    public func kinds(for relation: Relation) -> [ValueKind] {
        relation.columns.map { kind(for: $0.typeOID) }
    }

    /// Converts values of type `oid` as `kind` (overriding a built-in kind).
    public mutating func register(_ kind: ValueKind, for oid: UInt32) {
        custom[oid] = kind
    }

    /// A domain converts like its base type (`pg_type.typbasetype`).
    public mutating func registerDomain(oid: UInt32, baseTypeOID: UInt32) {
        custom[oid] = kind(for: baseTypeOID)
    }

    /// An array type (`pg_type.typelem`, `typdelim` of the element type).
    public mutating func registerArray(oid: UInt32, elementOID: UInt32, delimiter: UInt8 = UInt8(ascii: ",")) {
        custom[oid] = .array(element: kind(for: elementOID), delimiter: delimiter)
    }

    /// Registers what a pgoutput Type message tells: for a domain, pgoutput
    /// sends the domain's OID with its base type's name, so a domain over a
    /// built-in type (namespace "" is pg_catalog) gets that type's kind.
    /// Enums and other user types stay `.other`. Returns the resolved kind.
    @discardableResult
    public mutating func register(_ type: TypeInfo) -> ValueKind {
        guard type.namespace.isEmpty || type.namespace == "pg_catalog",
              let base = ValueKind.builtin(name: type.name)
        else { return kind(for: type.oid) }
        custom[type.oid] = base
        return base
    }
}
