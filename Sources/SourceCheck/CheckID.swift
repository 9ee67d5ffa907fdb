// The stable names of the prerequisite checks.
//
// Scripts and the API's clients branch on these ids, so a raw value never
// changes once released; new checks get new ids.

/// One prerequisite that `popsink-pg check` tests, in the order it runs them.
public enum CheckID: String, Sendable, Codable, CaseIterable {
    /// A plain SQL session can be opened with the source's settings.
    case connect
    /// The server is PostgreSQL 10 or later (14 or later to stream large transactions).
    case serverVersion = "server_version"
    /// `wal_level = logical`.
    case walLevel = "wal_level"
    /// The role may open replication connections.
    case replicationRole = "replication_role"
    /// The publication exists and publishes every kind of change.
    case publication
    /// Every published table has `REPLICA IDENTITY FULL`.
    case replicaIdentity = "replica_identity"
    /// The role can read every published table (for the snapshot).
    case selectPrivilege = "select_privilege"
    /// A replication slot is free for the pipeline.
    case replicationSlots = "replication_slots"
    /// A WAL sender process is free for the pipeline.
    case walSenders = "wal_senders"
    /// The connection is encrypted and the server's certificate and name verified (`sslmode=verify-full`).
    case tls
    /// DDL capture's event triggers are installed (optional: without them a
    /// schema change is seen only with the table's next row change).
    case ddlCapture = "ddl_capture"

    /// A short human name for the check.
    public var title: String {
        switch self {
        case .connect: "Connection"
        case .serverVersion: "Server version"
        case .walLevel: "Logical decoding (wal_level)"
        case .replicationRole: "Replication privilege"
        case .publication: "Publication"
        case .replicaIdentity: "Replica identity FULL"
        case .selectPrivilege: "SELECT privilege"
        case .replicationSlots: "Free replication slots"
        case .walSenders: "Free WAL senders"
        case .tls: "Connection security (TLS)"
        case .ddlCapture: "DDL capture"
        }
    }
}
