// A webhook sink: each batch is one POST of `{"pipeline":…,"sink":…,"events":[…]}`
// to the configured URL, signed (see WebhookSignature). A 2xx moves the
// position; 5xx, 408, 429, timeouts and resets are retried with backoff;
// any other answer (4xx, a redirect) parks the sink with the status in its
// error. A receiver cannot be read back, so delivery is at least once: after
// a crash the batch in flight is sent again, and receivers drop events whose
// id they have already seen (ids grow in store order, so remembering the
// last one is enough).

import EventStore
import Foundation
import JSONText

final class WebhookTarget: SinkTarget {
    private let settings: WebhookSettings
    private let url: HTTPURL
    private let sinkName: String
    private let pipelineID: String

    init(settings: WebhookSettings, sinkName: String, pipelineID: String) throws(SinkError) {
        guard let url = HTTPURL(settings.url) else {
            throw SinkError(
                .configuration, "the webhook URL \(settings.url) is not an http[s]://host[:port]/path URL",
                retryable: false)
        }
        self.settings = settings
        self.url = url
        self.sinkName = sinkName
        self.pipelineID = pipelineID
    }

    func open() throws(SinkError) {}

    /// A receiver cannot be asked what it holds: the sink's own position is all there is.
    func resume(saved: SinkPosition, store: EventStoreReader) throws(SinkError) -> Int64 { saved.sequence }

    func deliver(_ events: [SinkEvent]) throws(SinkError) {
        guard let first = events.first, let last = events.last else { return }
        var body = Array(#"{"pipeline":"#.utf8)
        body += Self.jsonString(pipelineID) + Array(#","sink":"#.utf8) + Self.jsonString(sinkName)
        body += Array(#","events":["#.utf8)
        for (index, event) in events.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += event.body
        }
        body += Array("]}".utf8)
        let timestamp = Int64(Date().timeIntervalSince1970)
        let headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", "popsink-pg"),
            ("Popsink-Timestamp", String(timestamp)),
            ("Popsink-Signature", WebhookSignature.header(secret: settings.secret, timestamp: timestamp, body: body)),
            ("Popsink-First-Event-Id", first.id.description),
            ("Popsink-Last-Event-Id", last.id.description),
        ]
        let response = try HTTPClient.post(
            url, headers: headers, body: body, timeout: settings.timeoutSeconds, caFile: settings.caFile)
        switch response.status {
        case 200..<300:
            return
        case 408, 429, 500..<600:
            throw SinkError(.rejected, "the receiver answered \(response.status) \(response.reason)")
        case 300..<400:
            throw SinkError(
                .refused,
                "the receiver answered \(response.status) \(response.reason): redirects are not followed; configure the final URL",
                retryable: false)
        default:
            throw SinkError(
                .refused,
                "the receiver answered \(response.status) \(response.reason) to the batch \(first.id)…\(last.id): fix the receiver or the sink's settings, then restart the sink",
                retryable: false)
        }
    }

    func close(abrupt: Bool) {}

    private static func jsonString(_ text: String) -> [UInt8] {
        var writer = JSONWriter(capacity: text.utf8.count + 2)
        writer.string(text)
        return writer.bytes
    }
}
