// The first byte of every pgoutput message: which message it is.
// https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html

/// The message type byte of a pgoutput message.
public enum MessageID: UInt8, Sendable, CaseIterable {
    case begin = 0x42  // 'B'
    case commit = 0x43  // 'C'
    case origin = 0x4F  // 'O'
    case relation = 0x52  // 'R'
    case type = 0x59  // 'Y'
    case insert = 0x49  // 'I'
    case update = 0x55  // 'U'
    case delete = 0x44  // 'D'
    case truncate = 0x54  // 'T'
    case message = 0x4D  // 'M'
    case streamStart = 0x53  // 'S'
    case streamStop = 0x45  // 'E'
    case streamCommit = 0x63  // 'c'
    case streamAbort = 0x41  // 'A'
    // Two-phase commit (protocol version 3). We never ask for them (two_phase
    // is off), so the decoder rejects them as unsupported.
    case beginPrepare = 0x62  // 'b'
    case prepare = 0x50  // 'P'
    case commitPrepared = 0x4B  // 'K'
    case rollbackPrepared = 0x72  // 'r'
    case streamPrepare = 0x70  // 'p'

    /// The name the protocol page gives the message, for errors and logs.
    public var name: String {
        switch self {
        case .begin: "Begin"
        case .commit: "Commit"
        case .origin: "Origin"
        case .relation: "Relation"
        case .type: "Type"
        case .insert: "Insert"
        case .update: "Update"
        case .delete: "Delete"
        case .truncate: "Truncate"
        case .message: "Message"
        case .streamStart: "Stream Start"
        case .streamStop: "Stream Stop"
        case .streamCommit: "Stream Commit"
        case .streamAbort: "Stream Abort"
        case .beginPrepare: "Begin Prepare"
        case .prepare: "Prepare"
        case .commitPrepared: "Commit Prepared"
        case .rollbackPrepared: "Rollback Prepared"
        case .streamPrepare: "Stream Prepare"
        }
    }
}
