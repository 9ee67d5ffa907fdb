// The JetStream sink's checks: the servers answer, JetStream is enabled for
// the account, the stream exists (or will be created) and takes the sink's
// subjects, and this user may publish to them. The publish probe expects a
// last sequence the stream cannot have, so the server refuses it after the
// permission and subject checks and stores nothing.

import CNATS

struct JetStreamCheck {
    let settings: JetStreamSettings
    let pipelineID: String

    func run() -> [SinkCheckResult] {
        let target = JetStreamTarget(settings: settings, pipelineID: pipelineID, maxInFlight: 1)
        defer { target.close(abrupt: false) }
        var results: [SinkCheckResult] = []
        do {
            try target.connect()
            results.append(
                .init(
                    id: "connect", title: "NATS server", status: .pass,
                    detail: "Connected to \(target.connectedServer)."))
        } catch {
            results.append(
                .init(
                    id: "connect", title: "NATS server", status: .fail, detail: error.message,
                    remediation:
                        "Check servers (\(settings.servers.map(SinkChecker.redactedURL).joined(separator: ", "))): the server must run and listen there; credentials go in the URL (nats://user:password@host:4222)."
                ))
            for (id, title) in [("jetstream", "JetStream"), ("stream", "Stream"), ("publish", "Publish")] {
                results.append(.skipped(id, title, because: "no connection"))
            }
            return results
        }
        guard let context = target.context else { return results }

        if let absence = target.jetStreamAbsence() {
            results.append(
                .init(
                    id: "jetstream", title: "JetStream", status: .fail, detail: absence.reason,
                    remediation: JetStreamTarget.jetStreamRemedy))
            results.append(.skipped("stream", "Stream", because: "JetStream is not available"))
            results.append(.skipped("publish", "Publish", because: "JetStream is not available"))
            return results
        }
        results.append(
            .init(id: "jetstream", title: "JetStream", status: .pass, detail: "JetStream is enabled for the account."))

        var code = jsErrCode(0)
        let wanted = settings.streamSubject(pipeline: pipelineID)
        var info: UnsafeMutablePointer<jsStreamInfo>?
        let streamStatus = js_GetStreamInfo(&info, context, settings.stream, nil, &code)
        var lastSequence: UInt64 = 0
        switch streamStatus {
        case NATS_OK:
            guard let info else { return results }
            let config = info.pointee.Config.pointee
            lastSequence = info.pointee.State.LastSeq
            let subjects = (0..<Int(config.SubjectsLen)).compactMap { config.Subjects[$0].map { String(cString: $0) } }
            jsStreamInfo_Destroy(info)
            guard subjects.contains(where: { SubjectPattern($0).covers(wanted) }) else {
                results.append(
                    .init(
                        id: "stream", title: "Stream", status: .fail,
                        detail: "The stream \(settings.stream) takes \(subjects) but not \(wanted).",
                        remediation:
                            "Give the sink a stream of its own (the stream setting), or add the subject: nats stream edit \(settings.stream) --subjects '\((subjects + [wanted]).joined(separator: ","))'."
                    ))
                results.append(.skipped("publish", "Publish", because: "the stream does not take the sink's subjects"))
                return results
            }
            results.append(
                .init(
                    id: "stream", title: "Stream", status: .pass,
                    detail:
                        "The stream \(settings.stream) exists (\(lastSequence) messages up to now) and takes \(wanted)."
                ))
        case NATS_NOT_FOUND where settings.createStream:
            results.append(
                .init(
                    id: "stream", title: "Stream", status: .pass,
                    detail:
                        "The stream \(settings.stream) does not exist yet; the sink creates it at start for \(wanted) (create_stream)."
                ))
            results.append(.skipped("publish", "Publish", because: "the stream does not exist yet"))
            return results
        case NATS_NOT_FOUND:
            results.append(
                .init(
                    id: "stream", title: "Stream", status: .fail,
                    detail: "The stream \(settings.stream) does not exist and create_stream is false.",
                    remediation:
                        "Create it: nats stream add \(settings.stream) --subjects '\(wanted)' --storage file --retention \(settings.retention) --replicas \(settings.replicas) --dupe-window \(settings.duplicateWindowSeconds)s, or set create_stream to true."
                ))
            results.append(.skipped("publish", "Publish", because: "the stream does not exist"))
            return results
        default:
            results.append(
                .init(
                    id: "stream", title: "Stream", status: .fail,
                    detail:
                        "Reading the stream \(settings.stream): \(JetStreamTarget.text(streamStatus)) (JetStream error \(code.rawValue)) \(JetStreamTarget.lastError())",
                    remediation: "Allow this user the JetStream API ($JS.API.>) on the account that holds the stream."))
            results.append(.skipped("publish", "Publish", because: "the stream could not be read"))
            return results
        }
        results.append(publishProbe(context, after: lastSequence))
        return results
    }

    /// Publishes to a subject of the sink expecting a last sequence the stream
    /// cannot have: "wrong last sequence" proves the subject is bound and the
    /// publish was allowed, and nothing is stored.
    private func publishProbe(_ context: OpaquePointer, after lastSequence: UInt64) -> SinkCheckResult {
        let subject = NameTemplate(template: settings.subject).expand(
            pipeline: pipelineID, schema: SinkChecker.probeSchema, table: SinkChecker.probeTable,
            sanitize: JetStreamSettings.subjectToken)
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        options.ExpectLastSeq = lastSequence &+ 1_000_000_000
        options.MaxWait = Int64(min(settings.ackTimeoutSeconds, 5) * 1000)
        var code = jsErrCode(0)
        var ack: UnsafeMutablePointer<jsPubAck>?
        let status = js_Publish(&ack, context, subject, nil, 0, &options, &code)
        if let ack { jsPubAck_Destroy(ack) }
        let error = JetStreamTarget.lastError()
        if status != NATS_OK && code == JSStreamWrongLastSequenceErr {
            return .init(
                id: "publish", title: "Publish", status: .pass,
                detail:
                    "A probe on \(subject) reached the stream and was refused by its expected last sequence, as meant: publishing is allowed and nothing was stored."
            )
        }
        if status == NATS_OK {
            return .init(
                id: "publish", title: "Publish", status: .warn,
                detail:
                    "The probe on \(subject) was stored although it expected another last sequence: the stream does not honour Nats-Expected-Last-Sequence.",
                remediation:
                    "Use nats-server 2.2 or later; the sink's ordering guard relies on expected last sequences.")
        }
        let denied = error.localizedCaseInsensitiveContains("permission")
        return .init(
            id: "publish", title: "Publish", status: .fail,
            detail:
                "The probe on \(subject) failed: \(JetStreamTarget.text(status)) (JetStream error \(code.rawValue)) \(error)",
            remediation: status == NATS_NO_RESPONDERS
                ? "No stream takes \(subject): check the stream's subjects against the subject template."
                : denied || status == NATS_TIMEOUT
                    ? "Allow this user to publish to \(settings.streamSubject(pipeline: pipelineID)) (its permissions' publish list), and to receive on _INBOX.> for the acknowledgements."
                    : "Check the server's log for why it refused the message.")
    }
}
