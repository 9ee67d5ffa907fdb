// Standby status updates as the session sends them (protocol-replication.html,
// "Standby status update"): `applied` is what is flushed (the store is where
// a change is applied), and the send time is the wall clock's.

import PostgresReplication
import PostgresWire

extension ReplicationStream {
    func sendStatus(written: LSN, flushed: LSN, replyRequested: Bool = false) throws(PostgresError) {
        try send(
            StandbyStatusUpdate(
                written: written, flushed: flushed, applied: flushed,
                sendTime: PostgresTimestamp(unixMicroseconds: WallClock.unixMicroseconds()),
                replyRequested: replyRequested))
    }
}
