// The problems the domain's errors mean: a registry refusal, a source that
// cannot be reached. Apart from `Problem` so that the request-body fuzzer
// (Fuzz/json-body) builds with the HTTP layer alone.

import EventStore
import PostgresReplication

extension Problem {
    /// 503 `source-unavailable`, with the SQLSTATE when the server sent one.
    static func sourceUnavailable(_ error: PostgresError) -> Problem {
        var problem = Problem(
            status: 503, title: "Source unavailable", detail: error.description,
            type: "urn:popsink:problem:source-unavailable")
        problem.extensions = [("sqlstate", error.sqlState.json)]
        return problem
    }
}

extension Problem {
    /// The problem an error means for the client: a `Problem` as it is, a
    /// registry refusal as its status, anything else a 500.
    init(_ error: any Error) {
        switch error {
        case let problem as Problem: self = problem
        case let failure as PipelineRegistry.Failure: self = Problem(failure)
        default: self = Problem(status: 500, title: "Internal Server Error", detail: "\(error)")
        }
    }

    init(_ failure: PipelineRegistry.Failure) {
        switch failure {
        case .unknownPipeline, .unknownSource: self = .notFound(failure.description)
        case .alreadyExists: self = .conflict(failure.description, type: "urn:popsink:problem:already-exists")
        case .running: self = .conflict(failure.description, type: "urn:popsink:problem:pipeline-running")
        case .sourceInUse: self = .conflict(failure.description, type: "urn:popsink:problem:source-in-use")
        case .sourceUnavailable:
            self = Problem(
                status: 503, title: "Service Unavailable", detail: failure.description,
                type: "urn:popsink:problem:source-unavailable")
        }
    }
}

extension Problem {
    /// 409 for a cursor the store cannot have made: of another store (deleted
    /// and recreated since), or beyond its end. The body carries what the
    /// client needs to start over: the store's id and its last sequence.
    static func cursorConflict(_ detail: String, type: String, lastSequence: Int64, storeID: StoreID?) -> Problem {
        var problem = Problem(status: 409, title: "Conflict", detail: detail, type: type)
        problem.extensions = [
            ("last_seq", .integer(lastSequence)), ("store", storeID.map { .string("\($0)") } ?? .null),
        ]
        return problem
    }

    /// The problem of a cursor the store refused (`EventStoreReader.check`);
    /// any other store error stays an internal one.
    init(cursorError error: EventStoreError) {
        switch error.kind {
        case .cursorExpired:
            self = .expired(firstAvailableAfter: error.firstAvailableAfter ?? 0)
        case .cursorOfOtherStore:
            self = .cursorConflict(
                "the cursor is of another store: this pipeline's store was deleted and recreated since; "
                    + "re-read it from after=0 with the new store id",
                type: "urn:popsink:problem:cursor-other-store", lastSequence: error.lastSequence ?? 0,
                storeID: error.storeID)
        case .cursorBeyondEnd:
            self = .cursorConflict(
                "the cursor is beyond the last stored event (\(error.lastSequence ?? 0)), so it is not of this store; "
                    + "re-read from after=0",
                type: "urn:popsink:problem:cursor-beyond-end", lastSequence: error.lastSequence ?? 0,
                storeID: error.storeID)
        default:
            self = Problem(error)
        }
    }
}
