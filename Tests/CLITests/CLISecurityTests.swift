// What the command line leaves behind and what it accepts: the --output file
// is private like the stores, the token file of `serve` may end in CR LF, and
// an empty one is refused with a message.

import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite struct CLISecurityTests {
    @Test func theOutputFileIsCreatedOwnerOnly() throws {
        let harness = try CaptureHarness(setup: CLITests.setup)
        defer { harness.cleanUp() }
        try harness.execute("INSERT INTO t VALUES (1, 'private')")
        let output = harness.dataDirectory.appendingPathComponent("events.jsonl").path
        let previous = umask(0o022)
        defer { umask(previous) }
        let run = try PopsinkProcess.run(
            [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path, "--pipeline",
                harness.pipelineID,
                "--end-lsn", "current", "--output", output,
            ])
        #expect(run.status == 0, "\(run.output)")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: output)[.posixPermissions] as? Int)
        #expect(mode & 0o777 == 0o600, "mode \(String(mode, radix: 8))")
    }

    /// `check` over TLS with a client certificate whose key is encrypted:
    /// the passphrase comes from --sslpassword-file, and the report shows the TLS verdict.
    @Test func checkConnectsWithAnEncryptedClientKeyAndReportsTLS() throws {
        let tls = try TestPostgresTLS.shared()
        let certificates = try TestCertificates.shared()
        let source =
            "host=localhost port=\(tls.port) dbname=postgres user=\(TestPostgresTLS.certificateRole) "
            + "sslmode=verify-full sslrootcert=\(certificates.ca) sslcert=\(certificates.clientCertificate) "
            + "sslkey=\(certificates.encryptedClientKey)"
        let without = try PopsinkProcess.run(["check", source], timeout: 30)
        #expect(!without.output.contains("✓ Connection:"), "\(without.output)")
        let with = try PopsinkProcess.run(
            ["check", source, "--sslpassword-file", certificates.passphraseFile], timeout: 30)
        #expect(with.output.contains("✓ Connection:"), "\(with.output)")
        #expect(with.output.contains("✓ Connection security (TLS): Encrypted with TLSv1."), "\(with.output)")
    }

    @Test func serveReadsATokenFileWithCRLFAndRefusesAnEmptyOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty-token")
        try Data().write(to: empty)
        let refused = try PopsinkProcess.run(
            [
                "serve", "--listen", "127.0.0.1:0", "--data-dir", directory.appendingPathComponent("data").path,
                "--token-file", empty.path,
            ], timeout: 30)
        #expect(refused.status != 0)
        #expect(refused.output.contains("is empty"), "\(refused.output)")

        // A token file written on Windows: the CR is the line ending, not part of the token.
        let crlf = directory.appendingPathComponent("crlf-token")
        try Data("tok-\(UInt32.random(in: 0...UInt32.max))\r\n".utf8).write(to: crlf)
        let token = String(decoding: try Data(contentsOf: crlf).dropLast(2), as: UTF8.self)
        let serve = try PopsinkProcess.start(
            [
                "serve", "--listen", "127.0.0.1:0", "--data-dir", directory.appendingPathComponent("data").path,
                "--token-file", crlf.path,
            ])
        defer { serve.kill() }
        var base: String?
        for _ in 0..<300 where base == nil && serve.isRunning {
            base = serve.output().split(separator: " ").first { $0.hasPrefix("http://127.0.0.1:") }.map(String.init)
            usleep(50_000)
        }
        let url = try #require(base, "serve did not start: \(serve.output())")
        var request = URLRequest(url: URL(string: url + "/v1/sources")!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let status = try Self.status(of: request)
        #expect(status == 200, "\(serve.output())")
    }

    /// The status of a request, waited for on this thread.
    static func status(of request: URLRequest) throws -> Int {
        let result = LockedValue<Int?>(nil)
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { _, response, _ in
            result.withLock { $0 = (response as? HTTPURLResponse)?.statusCode }
            done.signal()
        }.resume()
        done.wait()
        return result.withLock { $0 } ?? 0
    }
}
