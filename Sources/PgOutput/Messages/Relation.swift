// Relation ('R'): a table's schema. pgoutput sends it before the first change
// to the table in a session and again after every schema change, so the last
// one seen describes the tuples that follow.
// Protocol page, "Relation": [Int32 xid], Int32 OID, String namespace ("" for
// pg_catalog), String name, Int8 replica identity, Int16 column count, then per
// column: Int8 flags (1 = part of the key), String name, Int32 type OID,
// Int32 type modifier.

import PostgresWire

/// A table's description: its columns in tuple order.
public struct Relation: Sendable, Equatable {
    /// The table's `REPLICA IDENTITY` setting (`pg_class.relreplident`).
    public enum ReplicaIdentity: UInt8, Sendable {
        case `default` = 0x64  // 'd': the primary key
        case nothing = 0x6E  // 'n'
        case full = 0x66  // 'f': the whole old row
        case index = 0x69  // 'i': a chosen unique index
    }

    /// One column, in the order of the values in TupleData.
    public struct Column: Sendable, Equatable {
        /// Whether the column is part of the replica identity key.
        public var isKey: Bool
        public var name: String
        /// `pg_type.oid` of the column (a domain's own OID, not its base type's).
        public var typeOID: UInt32
        /// `pg_attribute.atttypmod`: e.g. varchar length + 4, or -1.
        public var typeModifier: Int32

        public init(isKey: Bool, name: String, typeOID: UInt32, typeModifier: Int32) {
            self.isKey = isKey
            self.name = name
            self.typeOID = typeOID
            self.typeModifier = typeModifier
        }
    }

    /// The streamed transaction this description belongs to, inside a Stream
    /// Start … Stream Stop block; nil otherwise.
    public var xid: UInt32?
    public var oid: UInt32
    /// The schema name; pgoutput sends "" for `pg_catalog`.
    public var namespace: String
    public var name: String
    public var replicaIdentity: ReplicaIdentity
    public var columns: [Column]

    public init(
        xid: UInt32? = nil, oid: UInt32, namespace: String, name: String,
        replicaIdentity: ReplicaIdentity, columns: [Column]
    ) {
        self.xid = xid
        self.oid = oid
        self.namespace = namespace
        self.name = name
        self.replicaIdentity = replicaIdentity
        self.columns = columns
    }

    /// Decodes the fields after the type byte; `hasXid` inside a streamed block.
    public static func decode(from reader: inout ByteReader, hasXid: Bool) throws(PgOutputError) -> Relation {
        try reader.payload(.relation) { r throws(PgOutputError.Reason) in
            let xid = try r.streamedXid(hasXid)
            let oid = try r.uint32()
            let namespace = try r.cString()
            let name = try r.cString()
            let identityByte = try r.uint8()
            guard let identity = ReplicaIdentity(rawValue: identityByte) else {
                throw .malformed("replica identity 0x\(String(identityByte, radix: 16))")
            }
            // Each column takes at least 10 bytes: flags, "" name, OID, modifier.
            let count = try r.count16(of: "column", minimumSize: 10)
            var columns: [Column] = []
            columns.reserveCapacity(count)
            for _ in 0..<count {
                let flags = try r.uint8()
                columns.append(
                    Column(
                        isKey: flags & 1 != 0, name: try r.cString(),
                        typeOID: try r.uint32(), typeModifier: try r.int32()))
            }
            return Relation(
                xid: xid, oid: oid, namespace: namespace, name: name,
                replicaIdentity: identity, columns: columns)
        }
    }
}
