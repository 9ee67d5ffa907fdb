// What the service refuses from browsers when no token protects it.
//
// Without a token, the only thing between a web page the operator visits and
// the API is the browser's same-origin policy, which does not stop:
// - DNS rebinding: the page's own name is made to resolve to 127.0.0.1, so
//   its scripts read the API as "same origin"; the `Host` header still carries
//   the page's name, so only the names this service answers to are accepted.
// - Cross-site "simple" requests: a form or `fetch(…, {mode: "no-cors"})` can
//   POST (bodyless, or text/plain) without a preflight; the browser labels
//   them with `Origin` and `Sec-Fetch-Site` (Fetch Metadata), which are refused
//   when cross-site, and requests with effects must be `application/json`,
//   which no page can send cross-site without a preflight we never grant.
// With a token none of this applies: a browser never adds the bearer token on
// its own (it is never read from a cookie).

import HTTPServer

/// Refuses requests a browser could have been tricked into sending.
struct RequestGuard: Sendable {
    /// Host names accepted without a token, lowercased, without port or brackets.
    let hostNames: Set<String>
    /// Listening on every address (0.0.0.0 or ::): any IP literal is this
    /// service's own address, and a rebinding attack always carries a name.
    let acceptsIPLiterals: Bool
    let tokenRequired: Bool

    static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "::1"]
    /// Probes must keep working for any client, browser or not.
    static let openPaths: Set<String> = ["/healthz", "/readyz"]
    static let methodsWithEffects: Set<String> = ["POST", "PUT", "DELETE", "PATCH"]

    /// - Parameter listenHost: the host of `--listen`; nil for loopback names only.
    init(listenHost: String?, tokenRequired: Bool) {
        let host = listenHost.map { Self.bare($0.lowercased()) }
        hostNames = Self.loopbackNames.union(host.map { [$0] } ?? [])
        acceptsIPLiterals = host == "0.0.0.0" || host == "::"
        self.tokenRequired = tokenRequired
    }

    /// The problem to answer instead of handling the request, nil to handle it.
    func refusal(for request: HTTPRequest) -> Problem? {
        guard !tokenRequired, !Self.openPaths.contains(request.path) else { return nil }
        if let host = request.headers["host"], !accepts(host: host) {
            return Problem(
                status: 403, title: "Forbidden",
                detail: "Host \(host) is not a name of this service; without an API token only localhost, "
                    + "127.0.0.1, [::1] and the --listen address are accepted (DNS rebinding protection).",
                type: "urn:popsink:problem:host-not-allowed")
        }
        if let reason = crossSite(request) {
            return Problem(
                status: 403, title: "Forbidden",
                detail:
                    "cross-site request refused (\(reason)); without an API token the API answers only its own pages "
                    + "and non-browser clients.",
                type: "urn:popsink:problem:cross-site")
        }
        if Self.methodsWithEffects.contains(request.method), !Self.isJSON(request.headers["content-type"]) {
            return Problem(
                status: 415, title: "Unsupported Media Type",
                detail: "\(request.method) needs Content-Type: application/json, with or without a body.",
                type: "urn:popsink:problem:content-type")
        }
        return nil
    }

    func accepts(host header: String) -> Bool {
        let name = Self.bare(Self.withoutPort(header.lowercased()))
        if hostNames.contains(name) { return true }
        return acceptsIPLiterals && Self.isIPLiteral(name)
    }

    /// Why the request is cross-site, nil when it is not.
    private func crossSite(_ request: HTTPRequest) -> String? {
        if let site = request.headers["sec-fetch-site"]?.lowercased(), site != "same-origin", site != "none" {
            // Following a link to the dashboard is a cross-site navigation; its pages hold no data.
            let navigation =
                request.headers["sec-fetch-mode"]?.lowercased() == "navigate"
                && ["GET", "HEAD"].contains(request.method) && !Self.isAPI(request.path)
            if !navigation { return "Sec-Fetch-Site: \(site)" }
        }
        if let origin = request.headers["origin"] {
            // The dashboard's own origin, served over HTTP or HTTPS (serve --tls-cert).
            let own = request.headers["host"].map { host in ["http://", "https://"].map { $0 + host.lowercased() } }
            if !(own ?? []).contains(origin.lowercased()) { return "Origin: \(origin)" }
        }
        return nil
    }

    static func isAPI(_ path: String) -> Bool { path == "/v1" || path.hasPrefix("/v1/") || path == "/metrics" }

    /// `application/json`, parameters allowed (RFC 9110 §8.3.1: the type is case-insensitive).
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return type.trimmingSpaces().lowercased() == "application/json"
    }

    /// `name:port`, `[v6]:port` or a bare name, without the port.
    static func withoutPort(_ host: String) -> String {
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return host }
            return String(host[...close])
        }
        guard let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon else { return host }
        return String(host[..<colon])
    }

    static func bare(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    static func isIPLiteral(_ name: String) -> Bool {
        if name.contains(":") { return name.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                    && (Int(part) ?? 256) <= 255
            }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}
