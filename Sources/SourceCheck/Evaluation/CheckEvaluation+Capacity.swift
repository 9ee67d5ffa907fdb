// Verdicts on server capacity: each pipeline holds one replication slot and,
// while it streams, one WAL sender process.

extension CheckEvaluation {
    static func replicationSlots(_ slots: Capacity) -> CheckResult {
        guard slots.free == 0 else {
            return CheckResult(
                id: .replicationSlots, status: .pass,
                detail: "\(slots.free) of \(slots.maximum) replication slots free.")
        }
        var detail =
            "All \(slots.maximum) replication slots are taken (max_replication_slots = \(slots.maximum), "
            + "\(slots.used) in use); the pipeline needs one of its own."
        var remediation = raise("max_replication_slots", slots)
        if !slots.inactive.isEmpty {
            detail += " Not streaming now: \(SQLText.list(slots.inactive))."
            // Dropping is an alternative, not the fix: the slot may be someone's.
            remediation +=
                "\n-- or drop a slot nobody will use again (it is holding WAL back):"
                + slots.inactive.map { "\n-- SELECT pg_drop_replication_slot(\(SQLText.literal($0)));" }.joined()
        }
        return CheckResult(id: .replicationSlots, status: .fail, detail: detail, remediation: remediation)
    }

    static func walSenders(_ senders: Capacity) -> CheckResult {
        guard senders.free == 0 else {
            return CheckResult(
                id: .walSenders, status: .pass,
                detail: "\(senders.free) of \(senders.maximum) WAL senders free.")
        }
        return CheckResult(
            id: .walSenders, status: .fail,
            detail: "All \(senders.maximum) WAL senders are busy (max_wal_senders = \(senders.maximum), "
                + "\(senders.used) connected); the pipeline needs one to stream.",
            remediation: raise("max_wal_senders", senders))
    }

    /// `ALTER SYSTEM` with room for this pipeline and a few more, so the next
    /// pipeline does not need another restart.
    private static func raise(_ setting: String, _ capacity: Capacity) -> String {
        """
        ALTER SYSTEM SET \(setting) = \(max(capacity.maximum, capacity.used) + 4);
        -- then restart Postgres: \(setting) is read only at server start.
        """
    }
}
