// Runs the `popsink-pg` binary built next to the test bundle.

import Foundation

public final class PopsinkProcess {
    public let process = Process()
    private let outputFile: URL

    public static var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("popsink-pg")
    }

    private init(_ arguments: [String], environment: [String: String?]) throws {
        outputFile = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "popsink-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputFile)
        process.executableURL = Self.binary
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
    }

    deinit {
        if process.isRunning { kill() }
        try? FileManager.default.removeItem(at: outputFile)
    }

    public static func start(_ arguments: [String], environment: [String: String?] = [:]) throws -> PopsinkProcess {
        let popsink = try PopsinkProcess(arguments, environment: environment)
        try popsink.process.run()
        return popsink
    }

    /// Runs to completion (or kills after `timeout` seconds).
    public static func run(
        _ arguments: [String], environment: [String: String?] = [:], timeout: Double = 60
    ) throws -> (status: Int32, output: String) {
        let popsink = try start(arguments, environment: environment)
        let deadline = Date().addingTimeInterval(timeout)
        while popsink.process.isRunning && Date() < deadline { usleep(20_000) }
        if popsink.process.isRunning { popsink.kill() }
        popsink.process.waitUntilExit()
        return (popsink.process.terminationStatus, popsink.output())
    }

    public var isRunning: Bool { process.isRunning }

    /// SIGKILL, then reap.
    public func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public func output() -> String {
        (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    }
}
