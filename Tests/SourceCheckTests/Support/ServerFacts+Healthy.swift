// Facts of a server that meets every prerequisite, for the pure evaluation
// tests to spoil one fact at a time.

import PostgresReplication

@testable import SourceCheck

extension ServerFacts {
    static func healthy(version: Int = 150004) -> ServerFacts {
        ServerFacts(
            versionNumber: version, version: "\(version / 10000).\(version % 100)",
            user: "app", database: "shop",
            walLevel: .success(WalLevel(setting: "logical", pendingRestart: false)),
            role: .success(RoleFacts(isSuperuser: false, hasReplication: true, replicationRolesViaMembership: [])),
            replicationConnection: .success(()),
            publication: .success(
                .found(
                    PublicationFacts(
                        allTables: false, unpublishedOperations: [],
                        tables: [
                            PublishedTable(
                                schema: "public", name: "orders", replicaIdentity: .full, canSelect: true,
                                hasSchemaUsage: true)
                        ]))),
            slots: .success(Capacity(maximum: 10, used: 2)),
            walSenders: .success(Capacity(maximum: 10, used: 1)),
            security: ConnectionSecurity(
                encrypted: true, protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", sslmode: "verify-full",
                verified: true))
    }

    func evaluated(publication: String = "popsink") -> [CheckResult] {
        CheckEvaluation.evaluate(.success(self), publication: publication)
    }
}

extension Array where Element == CheckResult {
    subscript(id: CheckID) -> CheckResult? { first { $0.id == id } }
}
