// What the checker reads from the server, before any judgement is made.
//
// Reading and judging are kept apart so the judgement (`CheckEvaluation`) is a
// pure function: a test can hand it a `wal_level` of `replica` or a full set of
// slots without a second cluster. Each fact is a `Result`, so one query that
// fails makes its own check fail and leaves the others standing.
//
// The checks are judged against the session's `current_user`, the role whose
// privileges and replication connection the pipeline will use.

import PostgresReplication

/// What a connected session learned about the server.
struct ServerFacts: Sendable {
    /// `server_version_num`, e.g. 150004.
    var versionNumber: Int
    /// `server_version`, e.g. `15.4 (Debian 15.4-1)`.
    var version: String
    /// `current_user`.
    var user: String
    /// `current_database()`.
    var database: String
    var walLevel: Result<WalLevel, PostgresError>
    var role: Result<RoleFacts, PostgresError>
    /// Whether a `replication=database` connection and `IDENTIFY_SYSTEM`
    /// worked: the proof, where the role facts are only the explanation.
    var replicationConnection: Result<Void, PostgresError>
    var publication: Result<PublicationLookup, PostgresError>
    var slots: Result<Capacity, PostgresError>
    var walSenders: Result<Capacity, PostgresError>
    /// The SQL connection's transport security.
    var security: ConnectionSecurity? = nil
    /// Whether DDL capture's two event triggers exist and are enabled.
    var ddlCapture: Result<Bool, PostgresError> = .success(true)
    /// For a managed publication: what the role may do towards it; nil for an existing publication.
    var managedPublication: Result<ManagedPublicationFacts, PostgresError>? = nil
}

/// The `wal_level` setting.
struct WalLevel: Sendable, Equatable {
    var setting: String
    /// A changed value waits for a restart (`pg_settings.pending_restart`).
    var pendingRestart: Bool
}

/// The connecting role's replication rights.
struct RoleFacts: Sendable, Equatable {
    var isSuperuser: Bool
    /// The role's own `REPLICATION` attribute.
    var hasReplication: Bool
    /// Other roles with `REPLICATION` (or superuser) that the role is a member
    /// of, directly or through other roles.
    var replicationRolesViaMembership: [String]
}

/// Whether the publication exists.
enum PublicationLookup: Sendable, Equatable {
    case found(PublicationFacts)
    /// Not found; the names of the publications that do exist, to spot a typo
    /// or a case mismatch.
    case missing(existing: [String])
}

/// A publication and the tables it publishes now.
struct PublicationFacts: Sendable, Equatable {
    /// `FOR ALL TABLES`.
    var allTables: Bool
    /// Kinds of change the publication leaves out (`publish = '...'`), e.g. `["update", "delete"]`.
    var unpublishedOperations: [String]
    var tables: [PublishedTable]
}

/// One table in a publication, with the facts the table checks need.
struct PublishedTable: Sendable, Equatable {
    var schema: String
    var name: String
    var replicaIdentity: ReplicaIdentity
    /// `has_table_privilege(..., 'SELECT')` for the connecting role.
    var canSelect: Bool
    /// `has_schema_privilege(..., 'USAGE')`: without it SELECT is refused too.
    var hasSchemaUsage: Bool
}

/// `pg_class.relreplident`: which old values an UPDATE or DELETE logs.
enum ReplicaIdentity: String, Sendable, Equatable {
    case full = "f"
    case `default` = "d"
    case nothing = "n"
    case index = "i"

    /// How `\d+` would describe it.
    var description: String {
        switch self {
        case .full: "full"
        case .default: "default: primary key only"
        case .nothing: "nothing"
        case .index: "index columns only"
        }
    }
}

/// A server resource with a configured maximum: replication slots or WAL senders.
struct Capacity: Sendable, Equatable {
    var maximum: Int
    var used: Int
    /// Slots no one is streaming from: candidates to drop, listed so the user
    /// can decide (slots only).
    var inactive: [String] = []

    var free: Int { max(0, maximum - used) }
}
