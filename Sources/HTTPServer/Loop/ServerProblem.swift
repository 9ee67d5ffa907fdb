// The body of the server's own error responses (a malformed request, a limit,
// a timeout, too many connections): RFC 9457 problem details, the same media
// type and fields as the API's errors, so a client reads every error one way.
// Written with `JSONWriter`, the package's one JSON writer.

import JSONText

enum ServerProblem {
    static let contentType = "application/problem+json"

    /// `{"type":"about:blank","title":…,"status":…,"detail":…}`: the status
    /// code says what kind of error it is, so the type is `about:blank` and
    /// the title its reason phrase (RFC 9457 §4.2.1).
    static func body(status: Int, detail: String) -> [UInt8] {
        var json = JSONWriter(capacity: 128 + detail.utf8.count)
        json.beginObject()
        json.key("type")
        json.string("about:blank")
        json.key("title")
        json.string(HTTPStatus.reasonPhrase(status))
        json.key("status")
        json.integer(status)
        json.key("detail")
        json.string(detail)
        json.endObject()
        return json.bytes
    }
}
