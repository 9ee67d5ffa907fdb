// A complete request as the handler sees it: head, whole body (bounded by the
// configured limit) and the client's address.

/// A parsed HTTP request.
public struct HTTPRequest: Sendable {
    /// The method token, case-sensitive (`GET`, `POST`, ...).
    public var method: String
    /// The request-target exactly as received (RFC 9112 §3.2), e.g. `/v1/pipelines?limit=10`.
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The client as `address:port` (`[address]:port` for IPv6); empty outside the server.
    public var remoteAddress: String
    /// Tells whether the client is still there; see `ConnectionWatch`.
    public var connection = ConnectionWatch()

    /// The path of the target, still percent-encoded (`/a%20b`). For an absolute-form
    /// target (`http://host/a`) this is the part after the authority; `*` stays `*`.
    public private(set) var path: String
    /// The query without the leading `?`, still percent-encoded, or nil if there is none.
    public private(set) var query: String?

    public init(
        method: String,
        target: String,
        version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = [:],
        body: [UInt8] = [],
        remoteAddress: String = ""
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        (path, query) = Self.split(target)
    }

    /// Whether the client asked to keep the connection open (RFC 9112 §9.3):
    /// HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    var wantsKeepAlive: Bool {
        if headers.containsToken("close", in: "Connection") { return false }
        return version.isAtLeast1_1 || headers.containsToken("keep-alive", in: "Connection")
    }

    private static func split(_ target: String) -> (path: String, query: String?) {
        var rest = Substring(target)
        // absolute-form (RFC 9112 §3.2.2): drop `scheme://authority`.
        if !rest.hasPrefix("/"), let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            rest = rest[rest.index(colon, offsetBy: 3)...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            rest = rest[authorityEnd...]
        }
        let question = rest.firstIndex(of: "?")
        var path = String(rest[..<(question ?? rest.endIndex)])
        if path.isEmpty { path = "/" }
        return (path, question.map { String(rest[rest.index(after: $0)...]) })
    }
}
