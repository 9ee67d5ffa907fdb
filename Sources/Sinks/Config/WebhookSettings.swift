// Settings of a webhook sink: batches POSTed to one URL, signed with a
// shared secret. No redirect is followed, so requests only ever go to this URL.

/// A webhook target.
public struct WebhookSettings: Sendable, Hashable, Codable {
    /// `http[s]://host[:port]/path`.
    public var url: String
    /// The HMAC-SHA-256 key of the `Popsink-Signature` header; write-only in the API.
    public var secret: String
    /// How long one request may take, connect to last byte of the response.
    public var timeoutSeconds: Double
    /// For https: a PEM file of the CAs to trust instead of the system's.
    public var caFile: String?

    public init(url: String, secret: String, timeoutSeconds: Double = 10, caFile: String? = nil) {
        self.url = url
        self.secret = secret
        self.timeoutSeconds = timeoutSeconds
        self.caFile = caFile
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, secret
        case timeoutSeconds = "timeout_seconds"
        case caFile = "ca_file"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        secret = try c.decode(String.self, forKey: .secret)
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? 10
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
    }

    func violations() -> [String] {
        var problems: [String] = []
        if HTTPURL(url) == nil {
            problems.append("url must be an http[s]://host[:port]/path URL")
        }
        if secret.utf8.count < 16 { problems.append("secret must be at least 16 bytes") }
        if !(timeoutSeconds > 0) { problems.append("timeout_seconds must be positive") }
        if let caFile, caFile.isEmpty || !url.hasPrefix("https://") {
            problems.append("ca_file must name a PEM file, and only for an https url")
        }
        return problems
    }
}
