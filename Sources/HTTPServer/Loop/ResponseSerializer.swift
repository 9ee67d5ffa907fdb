// Turns responses into bytes: the status line and header section (RFC 9112 §4,
// §5), chunk framing for streamed bodies (RFC 9112 §7.1) and the server's own
// error responses.

enum ResponseSerializer {
    enum Framing: Equatable {
        /// `Content-Length: n`.
        case length(Int)
        /// `Transfer-Encoding: chunked`.
        case chunked
        /// Neither: the body ends when the connection closes (HTTP/1.0 streams).
        case closeDelimited
        /// No content and no length field (1xx, 204, 304).
        case none
    }

    /// The header fields the server writes itself.
    private static let reserved = ["Content-Length", "Transfer-Encoding", "Connection"]

    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    static let lastChunk = Array("0\r\n\r\n".utf8)

    /// Status line and header section. `keepAlive` false adds `Connection: close`;
    /// an HTTP/1.0 client that asked for keep-alive gets `Connection: keep-alive`.
    static func head(
        status: Int, headers: HTTPHeaders, framing: Framing, keepAlive: Bool, version: HTTPVersion, date: String
    ) -> [UInt8] {
        let status = (100...999).contains(status) ? status : 500
        var text = "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(status))\r\n"
        if !headers.contains("Server") { text += "Server: popsink-pg\r\n" }
        if !headers.contains("Date") { text += "Date: \(date)\r\n" }
        for field in headers where isSendable(field) {
            text += "\(field.name): \(field.value)\r\n"
        }
        switch framing {
        case .length(let count): text += "Content-Length: \(count)\r\n"
        case .chunked: text += "Transfer-Encoding: chunked\r\n"
        case .closeDelimited, .none: break
        }
        if !keepAlive {
            text += "Connection: close\r\n"
        } else if !version.isAtLeast1_1 {
            text += "Connection: keep-alive\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Drops reserved fields and any field that could split the response (a name that
    /// is not a token, CR / LF / NUL in the value).
    private static func isSendable(_ field: HTTPHeaders.Field) -> Bool {
        !field.name.isEmpty && field.name.utf8.allSatisfy(HTTPSyntax.isTokenChar)
            && field.value.utf8.allSatisfy(HTTPSyntax.isFieldValueChar)
            && !reserved.contains { HTTPHeaders.equalsIgnoringCase($0, field.name) }
    }

    /// chunk = chunk-size CRLF chunk-data CRLF.
    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        var framed = Array(String(bytes.count, radix: 16).utf8) + [HTTPSyntax.cr, HTTPSyntax.lf]
        framed.reserveCapacity(framed.count + bytes.count + 2)
        framed += bytes
        framed += [HTTPSyntax.cr, HTTPSyntax.lf]
        return framed
    }

    /// The server's own error response (problem details), always closing the connection.
    static func error(status: Int, detail: String, date: String) -> [UInt8] {
        let body = ServerProblem.body(status: status, detail: detail)
        let headers: HTTPHeaders = ["Content-Type": ServerProblem.contentType]
        return head(
            status: status, headers: headers, framing: .length(body.count), keepAlive: false, version: .http1_1,
            date: date)
            + body
    }
}
