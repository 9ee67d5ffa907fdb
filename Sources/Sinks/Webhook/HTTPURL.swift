// The parts of an `http://` or `https://` URL the webhook client needs (RFC 3986 §3).

/// `http[s]://host[:port]/path[?query]`.
struct HTTPURL: Sendable, Hashable {
    /// https: TLS on the connection.
    let secure: Bool
    let host: String
    let port: UInt16
    /// The path and query, starting with `/`.
    let target: String

    init?(_ text: String) {
        if text.hasPrefix("https://") {
            secure = true
        } else if text.hasPrefix("http://") {
            secure = false
        } else {
            return nil
        }
        let rest = text.dropFirst(secure ? "https://".count : "http://".count)
        let defaultPort: UInt16 = secure ? 443 : 80
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var path = String(rest[authorityEnd...].prefix(while: { $0 != "#" }))
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty {
                port = defaultPort
            } else {
                guard after.hasPrefix(":"), let number = UInt16(after.dropFirst()) else { return nil }
                port = number
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let number = UInt16(authority[authority.index(after: colon)...]), number > 0 else { return nil }
            port = number
        } else {
            host = String(authority)
            port = defaultPort
        }
        guard !host.isEmpty else { return nil }
        target = path
    }

    /// The `Host` header's value.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }
}
