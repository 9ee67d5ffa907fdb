// The body of the server's own error responses (a malformed request, a limit,
// a timeout, too many connections): RFC 9457 problem details, the same media
// type and fields as the API's errors, so a client reads every error one way.
// Written by hand: the server has no JSON encoder, and the fields are few.

enum ServerProblem {
    static let contentType = "application/problem+json"

    /// `{"type":"about:blank","title":…,"status":…,"detail":…}`: the status
    /// code says what kind of error it is, so the type is `about:blank` and
    /// the title its reason phrase (RFC 9457 §4.2.1).
    static func body(status: Int, detail: String) -> [UInt8] {
        var json = #"{"type":"about:blank","title":"#
        appendString(HTTPStatus.reasonPhrase(status), to: &json)
        json += #","status":\#(status),"detail":"#
        appendString(detail, to: &json)
        json += "}"
        return Array(json.utf8)
    }

    /// A JSON string (RFC 8259 §7): quotes, backslashes and control characters escaped.
    private static func appendString(_ text: String, to json: inout String) {
        json += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += #"\""#
            case "\\": json += #"\\"#
            case "\n": json += #"\n"#
            case "\r": json += #"\r"#
            case "\t": json += #"\t"#
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                json += #"\u"# + String(repeating: "0", count: 4 - hex.count) + hex
            default: json.unicodeScalars.append(scalar)
            }
        }
        json += "\""
    }
}
