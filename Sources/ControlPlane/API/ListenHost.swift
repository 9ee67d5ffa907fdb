// Whether a `--listen` host is reachable only from this machine: decides
// whether `serve` may run without an API token.

/// Classification of the host part of `--listen`.
public enum ListenHost {
    /// `localhost`, `::1` or an IPv4 literal in 127.0.0.0/8. A name that
    /// merely starts with `127.` (`127.example.com`) is a DNS name like any
    /// other and may resolve anywhere.
    public static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased()
        if name == "localhost" || name == "::1" || name == "[::1]" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy { $0 >= "0" && $0 <= "9" } && Int(part)! <= 255
        }
    }
}
