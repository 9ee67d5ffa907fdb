// The pipeline's side of `EventStoreBackfillRequests`: it reads the requests
// the API stored and deletes each one in the group that records its effect.

extension EventStoreWriter {
    /// Requests and cancels not carried out yet, oldest first.
    public func backfillRequests() throws(EventStoreError) -> [BackfillRequestRow] {
        try EventStoreBackfillRequests.rows(connection, "read backfill requests")
    }

    /// Deletes a request carried out; inside an open group it commits (or
    /// rolls back) with the group. `keepingCancel` leaves a row whose cancel
    /// came after the request was taken, for the next poll to carry out.
    public func removeBackfillRequest(_ id: String, keepingCancel: Bool = false) throws(EventStoreError) {
        let operation = "remove backfill request \(id)"
        let delete = try connection.prepare(
            "DELETE FROM backfill_requests WHERE id = ?1" + (keepingCancel ? " AND cancel = 0" : ""),
            operation: operation)
        defer { delete.finalize() }
        delete.bind(id, at: 1)
        do {
            try delete.run(operation)
        } catch {
            if isGroupOpen { rollbackGroup() }
            throw error
        }
    }
}
