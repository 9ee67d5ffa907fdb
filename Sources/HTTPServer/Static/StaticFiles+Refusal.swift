// Why a request for a static file gets an error instead of the file, answered
// as RFC 9457 problem details like every other error of the server. The
// detail says what to change but never names a path of the file system: the
// folder's location and where a symlink points are the server's business.

extension StaticFiles {
    enum Refusal: Error, Equatable {
        /// A `%` not followed by two hex digits (RFC 3986 §2.1).
        case malformedEscape
        /// A segment that could leave the folder or reach a hidden file:
        /// `.`/`..`, a leading dot, an encoded `/` or `\`, NUL, or not UTF-8.
        case unsafeSegment
        /// The path resolves (through a symlink) to outside the folder.
        case outsideFolder
        /// The file is over `maxFileBytes`.
        case tooLarge(limit: Int)

        var status: Int {
            switch self {
            case .malformedEscape: 400
            case .unsafeSegment, .outsideFolder: 404
            case .tooLarge: 500
            }
        }

        var detail: String {
            switch self {
            case .malformedEscape:
                "The path has a malformed percent-escape: % must be followed by two hex digits."
            case .unsafeSegment:
                "No file is served at a path with a dot segment, a hidden name (leading dot), an encoded slash or "
                    + "backslash, a NUL byte or invalid UTF-8; ask for the file by its plain name."
            case .outsideFolder:
                "No file is served through a symbolic link to outside the dashboard folder; "
                    + "copy the file into the folder instead of linking to it."
            case .tooLarge(let limit):
                "The file is over \(limit) bytes, the most a static file may be; make it smaller."
            }
        }

        var response: HTTPResponse {
            .json(
                ServerProblem.body(status: status, detail: detail), status: status,
                contentType: ServerProblem.contentType)
        }
    }
}
