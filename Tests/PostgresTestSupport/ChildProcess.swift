// Runs a program to completion and keeps what it printed: the tools the tests
// drive (pg_ctl, curl, openssl, the popsink-pg binary).

import Blocking
import Foundation

public enum ChildProcess {
    /// Runs `executable` with `arguments`; its exit status and its stdout and stderr together.
    /// Blocks the calling thread: from async code use `runOffPool`.
    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `run` on a thread of its own, so a slow child does not hold one of
    /// the cooperative pool's two threads.
    public static func runOffPool(
        _ executable: String, _ arguments: [String]
    ) async throws -> (status: Int32, output: String) {
        try await Blocking.run { try run(executable, arguments) }
    }
}
