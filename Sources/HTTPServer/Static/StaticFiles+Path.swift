// Turning a request path into file-name segments, refusing everything that could
// name something outside the folder. Segments are split on the raw `/` first and
// decoded after, so `%2f` can never become a separator (RFC 3986 §2.2: encoded
// reserved characters are data).

extension StaticFiles {
    static func segments(of rawPath: String) -> Result<[String], Refusal> {
        guard rawPath.hasPrefix("/") else { return .failure(.unsafeSegment) }
        var segments: [String] = []
        for raw in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            guard let bytes = HTTPRequest.percentDecode(raw, plusIsSpace: false) else {
                return .failure(.malformedEscape)
            }
            guard !bytes.contains(where: { $0 == 0 || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") }),
                // `.`, `..` and hidden files (`.git`, `.env`) alike.
                bytes.first != UInt8(ascii: "."),
                let segment = String(validating: bytes, as: UTF8.self)
            else { return .failure(.unsafeSegment) }
            segments.append(segment)
        }
        return .success(segments)
    }
}
