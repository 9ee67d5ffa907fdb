// Notices a replication connection that has gone silent: a half-open TCP
// connection (the server or a middlebox gone without a FIN) gives poll()
// nothing to report, so without this the session would wait forever while
// its status says `streaming`.
//
// A quiet stream is not a dead one (an idle server sends nothing while our
// status updates keep it content), so silence first earns a status update
// that asks for a reply (protocol-replication.html, "Standby status update":
// the walsender answers it with a keepalive at once); only when that too goes
// unanswered is the connection declared dead: about `timeout` after the last
// message when the session checks on time (it wakes at least once a second),
// and never before a ping has gone `timeout / 2` without an answer.

struct SilenceWatch {
    enum Verdict: Equatable {
        case quiet
        /// Send a status update that asks for a reply.
        case ping
        /// Nothing heard since the ping: give the connection up.
        case dead(silence: Duration)
    }

    let timeout: Duration
    private var lastHeard: ContinuousClock.Instant
    private var pingSent: ContinuousClock.Instant?

    init(timeout: Duration, now: ContinuousClock.Instant) {
        self.timeout = timeout
        lastHeard = now
    }

    /// Something arrived from the server.
    mutating func heard(at now: ContinuousClock.Instant) {
        lastHeard = now
        pingSent = nil
    }

    /// Called when a wait for the server timed out with nothing to read.
    mutating func check(now: ContinuousClock.Instant) -> Verdict {
        if let pingSent {
            return now - pingSent >= timeout / 2 ? .dead(silence: now - lastHeard) : .quiet
        }
        guard now - lastHeard >= timeout / 2 else { return .quiet }
        pingSent = now
        return .ping
    }
}
