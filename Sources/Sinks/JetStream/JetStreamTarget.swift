// A JetStream sink over libnats (the NATS authors' C client, Debian's
// libnats-dev). Each event is one message on its table's subject, with
// `Nats-Msg-Id` = the event id. Messages are published a batch at a time,
// each expecting the stream's previous sequence
// (`Nats-Expected-Last-Sequence`): if one is lost, the ones after it are
// refused rather than stored out of order, and the batch is resent from what
// reading the stream back shows. Only a batch's first and last messages ask
// for an acknowledgement (see `publish`). The duplicate window stays as a
// second guard.
// Pipelined, a batch is published while the previous one is acknowledged:
// an acknowledged stream sequence then proves every message before it is
// stored too, since each one expected its predecessor.

import CNATS
import EventStore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

final class JetStreamTarget: PipelinedSinkTarget {
    private let settings: JetStreamSettings
    private let pipelineID: String
    private let maxInFlight: Int
    private let acks = JetStreamAcks()
    private var connection: OpaquePointer?
    /// The JetStream context, once connected (the sink check reads through it too).
    private(set) var context: OpaquePointer?
    /// The stream's last sequence: every message of ours is expected right after it.
    private var streamSequence: UInt64 = 0
    /// The stream sequence the last message sent will have (pipelined sends).
    private var sentSequence: UInt64 = 0
    /// Each batch in flight: its last store sequence and the stream sequence that acknowledges it.
    private var batchEnds: [(store: Int64, stream: UInt64)] = []
    /// Subjects by table: expanding the template per event cost more than publishing it.
    private var subjects: [String: String] = [:]

    init(settings: JetStreamSettings, pipelineID: String, maxInFlight: Int) {
        self.settings = settings
        self.pipelineID = pipelineID
        self.maxInFlight = maxInFlight
    }

    deinit { close(abrupt: true) }

    private var waitMilliseconds: Int64 { Int64(settings.ackTimeoutSeconds * 1000) }

    func open() throws(SinkError) {
        try connect()
        try requireJetStream()
        try ensureStream()
    }

    /// Connects and opens a JetStream context, without touching the stream.
    func connect() throws(SinkError) {
        var options: OpaquePointer?
        try check(natsOptions_Create(&options), .connection, "creating NATS options")
        defer { natsOptions_Destroy(options) }
        var servers = settings.servers.map { strdup($0) }
        defer { servers.forEach { free($0) } }
        let status = servers.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                natsOptions_SetServers(options, $0, Int32(buffer.count))
            }
        }
        try check(status, .configuration, "setting the NATS servers \(settings.servers)")
        natsOptions_SetTimeout(options, 2000)
        // A broken connection fails the batch; the forwarder reconnects and reads back.
        natsOptions_SetAllowReconnect(options, false)
        try check(
            natsConnection_Connect(&connection, options), .connection,
            "connecting to \(settings.servers.joined(separator: ","))")

        var jsOptions = jsOptions()
        jsOptions_Init(&jsOptions)
        jsOptions.Wait = waitMilliseconds
        // Every message the forwarder may have in flight, so a publish never stalls on the bound.
        jsOptions.PublishAsync.MaxPending = Int64(maxInFlight)
        jsOptions.PublishAsync.AckHandler = JetStreamAcks.handler
        jsOptions.PublishAsync.AckHandlerClosure = Unmanaged.passUnretained(acks).toOpaque()
        try check(
            natsConnection_JetStream(&context, connection, &jsOptions), .connection, "opening a JetStream context")
    }

    /// The server the connection is on, as `name version at url`.
    var connectedServer: String {
        var url = [CChar](repeating: 0, count: 256)
        natsConnection_GetConnectedUrl(connection, &url, url.count)
        return String(decoding: url.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What fixes a server or account without JetStream.
    static let jetStreamRemedy =
        "Start nats-server with JetStream (nats-server -js, or jetstream {} in its configuration) and enable it for this user's account."

    /// Why the account has no JetStream, and whether that is for good; nil
    /// when it has. The sink check's `jetstream` step and a sink started
    /// against such a server say the same.
    func jetStreamAbsence() -> (reason: String, lasting: Bool)? {
        var code = jsErrCode(0)
        var account: UnsafeMutablePointer<jsAccountInfo>?
        let status = js_GetAccountInfo(&account, context, nil, &code)
        if let account { jsAccountInfo_Destroy(account) }
        guard status != NATS_OK else { return nil }
        // Nobody answering the JetStream API, or a server saying it is off,
        // will not change by retrying; a timeout or a cluster electing its
        // leader may.
        let lasting = status == NATS_NO_RESPONDERS || code == JSNotEnabledForAccountErr || code == JSNotEnabledErr
        return (
            "The account has no JetStream: \(Self.text(status)) (JetStream error \(code.rawValue)) \(Self.lastError())",
            lasting
        )
    }

    /// Throws when the account has no JetStream, for good (the sink parks)
    /// when the server says so: the sink would otherwise retry a stream
    /// lookup that cannot succeed, saying only "no responders".
    func requireJetStream() throws(SinkError) {
        guard let absence = jetStreamAbsence() else { return }
        throw SinkError(
            absence.lasting ? .refused : .connection, "\(absence.reason). \(Self.jetStreamRemedy)")
    }

    /// Creates the stream, or checks that the existing one takes our subjects.
    private func ensureStream() throws(SinkError) {
        let wanted = settings.streamSubject(pipeline: pipelineID)
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var code = jsErrCode(0)
        let status = js_GetStreamInfo(&info, context, settings.stream, nil, &code)
        if status == NATS_OK, let info {
            defer { jsStreamInfo_Destroy(info) }
            let config = info.pointee.Config.pointee
            let subjects = (0..<Int(config.SubjectsLen)).compactMap { config.Subjects[$0].map { String(cString: $0) } }
            guard subjects.contains(where: { SubjectPattern($0).covers(wanted) }) else {
                throw SinkError(
                    .refused,
                    "the stream \(settings.stream) takes \(subjects) but not \(wanted): give the sink a stream of its own or add the subject"
                )
            }
            return
        }
        guard status == NATS_NOT_FOUND else {
            throw SinkError(
                .connection, "reading the stream \(settings.stream): \(Self.text(status)) \(Self.lastError())")
        }
        guard settings.createStream else {
            throw SinkError(
                .refused,
                "the stream \(settings.stream) does not exist and create_stream is false: create it, for subjects \(wanted)"
            )
        }
        var config = jsStreamConfig()
        jsStreamConfig_Init(&config)
        let name = strdup(settings.stream)
        let subject = strdup(wanted)
        defer {
            free(name)
            free(subject)
        }
        var subjects: [UnsafePointer<CChar>?] = [UnsafePointer(subject)]
        config.Name = UnsafePointer(name)
        config.Retention =
            switch settings.retention {
            case "interest": js_InterestPolicy
            case "workqueue": js_WorkQueuePolicy
            default: js_LimitsPolicy
            }
        config.Storage = js_FileStorage
        config.Replicas = Int64(settings.replicas)
        config.Duplicates = Int64(settings.duplicateWindowSeconds) * 1_000_000_000
        let created = subjects.withUnsafeMutableBufferPointer { buffer -> natsStatus in
            config.Subjects = buffer.baseAddress
            config.SubjectsLen = 1
            var info: UnsafeMutablePointer<jsStreamInfo>?
            let status = js_AddStream(&info, context, &config, nil, &code)
            if let info { jsStreamInfo_Destroy(info) }
            return status
        }
        // Another forwarder may have created it in between.
        if created != NATS_OK && code.rawValue != 10058 {
            throw SinkError(
                .connection,
                "creating the stream \(settings.stream): \(Self.text(created)) (JetStream error \(code.rawValue)) \(Self.lastError())"
            )
        }
    }

    func resume(saved: SinkPosition, store: EventStoreReader) throws(SinkError) -> Int64 {
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var code = jsErrCode(0)
        try check(
            js_GetStreamInfo(&info, context, settings.stream, nil, &code), .connection,
            "reading the stream \(settings.stream)")
        guard let info else { throw SinkError(.connection, "no stream info for \(settings.stream)") }
        let state = info.pointee.State
        jsStreamInfo_Destroy(info)
        streamSequence = state.LastSeq
        sentSequence = state.LastSeq
        batchEnds = []
        acks.reset()
        // An empty stream holds nothing of ours: everything the store has goes.
        if state.LastSeq == 0 { return 0 }
        var message: OpaquePointer?
        let status = js_GetMsg(&message, context, settings.stream, state.LastSeq, nil, &code)
        guard status == NATS_OK, let message else {
            // The last message expired or was deleted: our own position is all that is left.
            if status == NATS_NOT_FOUND { return saved.sequence }
            throw SinkError(
                .connection, "reading back message \(state.LastSeq) of \(settings.stream): \(Self.text(status))")
        }
        defer { natsMsg_Destroy(message) }
        var value: UnsafePointer<CChar>?
        guard natsMsgHeader_Get(message, "Nats-Msg-Id", &value) == NATS_OK, let value,
            let id = EventID(String(cString: value))
        else {
            throw SinkError(
                .diverged,
                "the last message of stream \(settings.stream) (sequence \(state.LastSeq)) has no event id in Nats-Msg-Id: the stream must be this sink's own",
                retryable: false)
        }
        guard let sequence = try StoreLocator.delivered(upTo: id, in: store) else {
            throw SinkError(
                .diverged,
                "the stream \(settings.stream) ends with event \(id), which this pipeline's store does not hold (a reset store, or retention deleted it): delete or purge the stream to forward from the store again",
                retryable: false)
        }
        return sequence
    }

    func deliver(_ events: [SinkEvent]) throws(SinkError) {
        guard let last = events.last else { return }
        try send(events)
        try waitAcknowledged(through: last.sequence)
    }

    /// Publishes `events`, the first expecting the stream to end at `expectedLast`.
    ///
    /// Only the first and the last message of a batch ask for an
    /// acknowledgement. Each message expects its predecessor's stream
    /// sequence, so the last one's acknowledgement proves the whole batch
    /// stored in order, and a message refused (or lost, or a duplicate)
    /// makes every later one refused, the last included. The first one's
    /// answer says why when a batch resent after a read back (which starts
    /// at the refused message) is refused again. An acknowledgement per
    /// message cost both processes more than the messages themselves.
    private func publish(_ events: [SinkEvent], after expectedLast: UInt64) throws(SinkError) {
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        for (index, event) in events.enumerated() {
            var message: OpaquePointer?
            let subject = subject(for: event)
            let status = event.body.withUnsafeBytes { body in
                natsMsg_Create(
                    &message, subject, nil, body.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(body.count))
            }
            try check(status, .rejected, "creating a message for \(subject)")
            let id = event.id.description
            setPopsinkHeaders(message, event, id: id)
            // Sequence 0 cannot be expected: the first message into an empty stream goes without.
            let expected = expectedLast + UInt64(index)
            let published: natsStatus
            let acknowledged = index == 0 || index == events.count - 1
            if acknowledged {
                options.ExpectLastSeq = expected
                published = id.withCString { idText in
                    options.MsgId = idText
                    defer { options.MsgId = nil }
                    return js_PublishMsgAsync(context, &message, &options)
                }
            } else {
                natsMsgHeader_Set(message, "Nats-Msg-Id", id)
                if expected > 0 { natsMsgHeader_Set(message, "Nats-Expected-Last-Sequence", String(expected)) }
                published = natsConnection_PublishMsg(connection, message)
            }
            // An accepted asynchronous publish owns its message (and set ours to nil); a plain one copied it.
            if message != nil { natsMsg_Destroy(message) }
            if published != NATS_OK {
                throw SinkError(
                    .connection, "publishing event \(id) to \(subject): \(Self.text(published)) \(Self.lastError())")
            }
        }
    }

    /// The event's subject; expanding the template per event cost more than publishing it.
    private func subject(for event: SinkEvent) -> String {
        let table = event.qualifiedTable
        if let known = subjects[table] { return known }
        let expanded = settings.subject(pipeline: pipelineID, event: event)
        subjects[table] = expanded
        return expanded
    }

    /// The headers every sink sets: event id, op, table, schema version, row key.
    private func setPopsinkHeaders(_ message: OpaquePointer?, _ event: SinkEvent, id: String) {
        natsMsgHeader_Set(message, "Popsink-Event-Id", id)
        natsMsgHeader_Set(message, "Popsink-Op", event.op)
        natsMsgHeader_Set(message, "Popsink-Table", event.qualifiedTable)
        if let version = event.schemaVersion {
            natsMsgHeader_Set(message, "Popsink-Schema-Version", String(version))
        }
        if let key = event.key {
            key.withUnsafeBufferPointer { bytes in
                // The key's JSON text, NUL-terminated for the C API without building a String.
                withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { text in
                    for (offset, byte) in bytes.enumerated() { text[offset] = CChar(bitPattern: byte) }
                    text[bytes.count] = 0
                    _ = natsMsgHeader_Set(message, "Popsink-Key", text.baseAddress)
                }
            }
        }
    }

    func send(_ events: [SinkEvent]) throws(SinkError) {
        guard let last = events.last else { return }
        try publish(events, after: sentSequence)
        sentSequence += UInt64(events.count)
        batchEnds.append((last.sequence, sentSequence))
    }

    func waitAcknowledged(through sequence: Int64) throws(SinkError) {
        guard let end = batchEnds.first(where: { $0.store == sequence }) else {
            throw SinkError(.connection, "no batch ending at \(sequence) is in flight")
        }
        let tally = acks.wait(
            forSequence: end.stream, until: Date(timeIntervalSinceNow: settings.ackTimeoutSeconds))
        if let failure = tally.failures.first {
            throw SinkError(.rejected, "JetStream refused \(tally.failures.count) messages, first: \(failure)")
        }
        if tally.duplicates > 0 {
            throw SinkError(
                .rejected, "the stream already held \(tally.duplicates) of the events sent: reading it back again")
        }
        guard tally.highestSequence >= end.stream else {
            throw SinkError(
                .timeout,
                "the stream acknowledged up to sequence \(tally.highestSequence), not \(end.stream), within \(settings.ackTimeoutSeconds) s"
            )
        }
        batchEnds.removeAll { $0.store <= sequence }
        streamSequence = end.stream
    }

    func close(abrupt: Bool) {
        if let context { jsCtx_Destroy(context) }
        if let connection { natsConnection_Destroy(connection) }
        context = nil
        connection = nil
    }

    private func check(_ status: natsStatus, _ kind: SinkError.Kind, _ action: String) throws(SinkError) {
        guard status == NATS_OK else { throw SinkError(kind, "\(action): \(Self.text(status)) \(Self.lastError())") }
    }

    static func text(_ status: natsStatus) -> String { String(cString: natsStatus_GetText(status)) }

    static func lastError() -> String {
        var status = NATS_OK
        return nats_GetLastError(&status).map { String(cString: $0) } ?? ""
    }
}

/// A NATS subject pattern with `*` (one token) and `>` (the rest).
struct SubjectPattern {
    let tokens: [Substring]

    init(_ pattern: String) { tokens = pattern.split(separator: ".", omittingEmptySubsequences: false) }

    /// Whether every subject that `subject` (itself a pattern) matches is matched by this one.
    func covers(_ subject: String) -> Bool {
        let other = subject.split(separator: ".", omittingEmptySubsequences: false)
        for (index, token) in tokens.enumerated() {
            if token == ">" { return index < other.count }
            guard index < other.count else { return false }
            if token == "*" {
                if other[index] == ">" { return false }
                continue
            }
            if token != other[index] { return false }
        }
        return tokens.count == other.count
    }
}
