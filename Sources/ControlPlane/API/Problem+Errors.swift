// The problems the domain's errors mean: a registry refusal, a source that
// cannot be reached. Apart from `Problem` so that the request-body fuzzer
// (Fuzz/json-body) builds with the HTTP layer alone.

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
