// Type ('Y'): the name of a column type that is not built in, sent before the
// Relation that uses it. Protocol page, "Type": [Int32 xid], Int32 OID,
// String namespace ("" for pg_catalog), String name.
//
// For a domain, pgoutput sends the domain's OID with its *base type's*
// namespace and name (proto.c, logicalrep_write_typ uses getBaseType), which
// is what lets a domain over int4 become a JSON number (`ValueKind.builtin(name:)`).

import PostgresWire

/// A user-defined type's OID and name.
public struct TypeInfo: Sendable, Equatable {
    /// The streamed transaction, inside a Stream Start … Stop block; else nil.
    public var xid: UInt32?
    public var oid: UInt32
    /// The schema of the (base) type; "" for `pg_catalog`.
    public var namespace: String
    public var name: String

    public init(xid: UInt32? = nil, oid: UInt32, namespace: String, name: String) {
        self.xid = xid
        self.oid = oid
        self.namespace = namespace
        self.name = name
    }

    /// Decodes the fields after the type byte; `hasXid` inside a streamed block.
    public static func decode(from reader: inout ByteReader, hasXid: Bool) throws(PgOutputError) -> TypeInfo {
        try reader.payload(.type) { r throws(PgOutputError.Reason) in
            TypeInfo(
                xid: try r.streamedXid(hasXid), oid: try r.uint32(), namespace: try r.cString(), name: try r.cString())
        }
    }
}
