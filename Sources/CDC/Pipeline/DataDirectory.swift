// Where a pipeline keeps its files inside the service's data directory.

/// The layout of a data directory: `pipelines/<id>/events.sqlite` per pipeline.
public struct DataDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func pipelineDirectory(_ pipelineID: String) -> String {
        "\(path)/pipelines/\(pipelineID)"
    }

    public func eventStorePath(pipelineID: String) -> String {
        "\(pipelineDirectory(pipelineID))/events.sqlite"
    }

    /// Pipeline ids become directory names: keep them to a safe alphabet.
    public static func isValidPipelineID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x5F || byte == 0x2D
            } && id.first != "-"
    }
}
