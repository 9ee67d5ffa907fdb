// What the session does with a `SilenceWatch` verdict when a wait for the
// server timed out: ask the server for a keepalive, or give the connection up
// (the worker reconnects).

import PostgresReplication
import PostgresWire

extension SilenceWatch {
    /// `flushed`: the position the keepalive request reports (the checkpoint's).
    mutating func check(now: ContinuousClock.Instant, stream: ReplicationStream, flushed: LSN) throws {
        switch check(now: now) {
        case .quiet:
            break
        case .ping:
            try stream.sendStatus(written: flushed, flushed: flushed, replyRequested: true)
        case .dead(let quiet):
            throw PipelineError(
                .connectionLost,
                "nothing arrived on the replication connection for \(quiet.components.seconds) s, not even an answer "
                    + "to a keepalive request: the connection is dead or stalled",
                retryable: true,
                remediation: "The pipeline reconnects by itself. If this repeats, check the network path to Postgres "
                    + "(a firewall or NAT dropping idle connections), or raise the receive timeout.")
        }
    }
}
