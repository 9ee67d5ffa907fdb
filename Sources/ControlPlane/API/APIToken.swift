// The API's bearer token as an operator writes it into a file: the first
// line, whatever the editor's line ending.

import Foundation

public enum APIToken {
    public struct FileError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The token on the first line of `path`, without its line ending (LF or CR LF).
    public static func read(fromFile path: String) throws(FileError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(
                description: "Cannot read the token file \(path): check that it exists and is readable by this user.")
        }
        var line = data.prefix { $0 != 0x0A }
        if line.last == 0x0D { line.removeLast() }
        guard !line.isEmpty else {
            throw FileError(description: "The token file \(path) is empty: write the API token on its first line.")
        }
        guard let token = String(data: line, encoding: .utf8) else {
            throw FileError(description: "The token file \(path) is not UTF-8 text.")
        }
        return token
    }
}
