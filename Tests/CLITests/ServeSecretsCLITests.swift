// `serve` over HTTPS with its passwords sealed at rest, and `rotate-key` while
// it runs: a source registered over HTTPS leaves no trace of its password in
// the data directory, a rotation re-seals it without a restart, a serve killed
// with SIGKILL starts again, opens every source and streams again, and a wrong
// key file stops serve with a message that says which record and which flag.
// The canary passwords (one a real role's, streaming) appear in no answer of
// any GET route of openapi.yaml, the log, /metrics or /proc, before or after
// the kill.

import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@Suite struct ServeSecretsCLITests {
    @Test(.timeLimit(.minutes(6)))
    func httpsServeSealsPasswordsAndRotatesTheKeyWhileRunning() throws {
        let certificates = try TestCertificates.shared()
        // The first canary is a real password: a pipeline streams with it before and after a SIGKILL.
        let postgres = try TestPostgres.shared()
        let database = try postgres.createDatabase(prefix: "canary")
        let role = "r_\(database)"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token")
        let token = "tok-\(UUID().uuidString)"
        try Data(token.utf8).write(to: tokenFile)
        let canaries = (0..<2).map { _ in "pw-\(UUID().uuidString)" }
        try postgres.execute(
            "CREATE ROLE \(role) LOGIN REPLICATION PASSWORD '\(canaries[0])' IN ROLE \(TestPostgres.passwordGroup)")
        try postgres.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, v text);
            ALTER TABLE t REPLICA IDENTITY FULL;
            GRANT SELECT ON t TO \(role);
            CREATE PUBLICATION popsink FOR TABLE t;
            """, database: database)

        func serve(_ extra: [String] = []) throws -> (PopsinkProcess, String) {
            let process = try PopsinkProcess.start(
                ["serve", "--listen", "127.0.0.1:0", "--data-dir", data.path, "--token-file", tokenFile.path] + extra)
            var base: String?
            for _ in 0..<600 where base == nil && process.isRunning {
                base = process.output().split(whereSeparator: \.isWhitespace)
                    .first { $0.hasPrefix("https://127.0.0.1:") || $0.hasPrefix("http://127.0.0.1:") }
                    .map(String.init)
                usleep(50_000)
            }
            return (process, try #require(base, "serve did not start: \(process.output())"))
        }
        func curl(_ base: String, _ method: String, _ path: String, json: String? = nil) throws -> String {
            var arguments = [
                "-sS", "--max-time", "5", "--cacert", certificates.ca, "-X", method, "-H",
                "Authorization: Bearer \(token)",
                base.replacingOccurrences(of: "127.0.0.1", with: "localhost") + path,
            ]
            if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
            return try ChildProcess.run("/usr/bin/curl", arguments).output
        }
        func register(_ base: String, _ id: String, password: String, port: Int = 5432, database: String = "app")
            throws
        {
            let created = try curl(
                base, "POST", "/v1/sources",
                json:
                    #"{"name":"\#(id)","host":"127.0.0.1","port":\#(port),"database":"\#(database)","user":"\#(role)","password":"\#(password)","sslmode":"disable"}"#
            )
            #expect(created.contains(#""has_password":true"#) && !created.contains(password), "\(created)")
        }
        func waitStreaming(_ base: String) throws -> String {
            var status = ""
            for _ in 0..<240 where !status.contains(#""state":"streaming""#) {
                status = try curl(base, "GET", "/v1/pipelines/canary/status")
                usleep(500_000)
            }
            #expect(status.contains(#""state":"streaming""#), "\(status)")
            return status
        }
        func waitRow(_ base: String, _ value: String) throws -> String {
            var page = ""
            for _ in 0..<120 where !page.contains(value) {
                page = try curl(base, "GET", "/v1/pipelines/canary/events?after=0&limit=1000&wait=1")
            }
            #expect(page.contains(value), "\(page)")
            return page
        }
        var backfillID = ""
        /// A check of every source, then every GET route of the contract, ids filled in.
        func sweep(_ base: String, sources ids: [Substring]) throws -> String {
            var shown = ""
            for id in ids {
                shown += try curl(base, "POST", "/v1/sources/\(id)/check", json: "{}")
                for route in Self.getRoutes() {
                    let path = route.replacingOccurrences(of: "{name}", with: "reader")
                        .replacingOccurrences(of: "{schema}.{table}", with: "public.t")
                        .replacingOccurrences(of: "{backfill_id}", with: backfillID)
                        .replacingOccurrences(of: "{id}", with: route.hasPrefix("/v1/sources/") ? String(id) : "canary")
                    let answer = try curl(base, "GET", path)
                    #expect(!answer.isEmpty || path.hasSuffix("/stream"), "GET \(path) answered nothing")
                    #expect(!answer.contains("\"status\":404"), "GET \(path): \(answer)")
                    shown += answer
                }
            }
            return shown
        }

        let (first, base) = try serve([
            "--tls-cert", certificates.serverCertificate, "--tls-key", certificates.serverKey,
        ])
        #expect(base.hasPrefix("https://"))
        try register(base, "s0", password: canaries[0], port: postgres.port, database: database)
        let keyFile = data.appendingPathComponent("secret.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let before = try String(contentsOfFile: keyFile, encoding: .utf8)

        let rotated = try PopsinkProcess.run(["rotate-key", "--data-dir", data.path], timeout: 60)
        #expect(rotated.status == 0 && rotated.output.contains("1 record(s) sealed again"), "\(rotated.output)")
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8) != before)
        // The running serve seals under the new key without a restart.
        try register(base, "s1", password: canaries[1])
        // What the API, the metrics and the process itself show: no canary either.
        let listing = try curl(base, "GET", "/v1/sources")
        let ids = listing.components(separatedBy: #""id":""#).dropFirst().compactMap { $0.split(separator: "\"").first }
        #expect(ids.count == 2, "\(listing)")
        // A pipeline streaming with the first canary, and a consumer, so that every GET route has a real id.
        let s0 =
            listing.components(separatedBy: #""id":""#).dropFirst().first { $0.contains(#""name":"s0""#) }?
            .split(separator: "\"").first.map(String.init) ?? ""
        var shown = try curl(
            base, "PUT", "/v1/pipelines/canary", json: #"{"source_id":"\#(s0)","desired_state":"running"}"#)
        shown += try waitStreaming(base)
        try postgres.execute("INSERT INTO t VALUES (1, 'before the kill')", database: database)
        shown += try waitRow(base, "before the kill")
        shown += try curl(base, "PUT", "/v1/pipelines/canary/consumers/reader", json: #"{"acked_seq":0}"#)
        let backfill = try curl(base, "POST", "/v1/pipelines/canary/backfills", json: #"{"tables":["public.t"]}"#)
        shown += backfill
        backfillID =
            backfill.components(separatedBy: #""id":""#).dropFirst().first?.split(separator: "\"").first.map(
                String.init)
            ?? ""
        #expect(!backfillID.isEmpty, "\(backfill)")
        shown += try sweep(base, sources: ids)
        let pid = first.process.processIdentifier
        for name in ["cmdline", "environ"] {
            shown += String(
                decoding: (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/\(name)"))) ?? Data(), as: UTF8.self
            )
        }
        // SIGHUP reads the certificate and key again.
        kill(pid, SIGHUP)
        var reloaded = false
        for _ in 0..<200 where !reloaded {
            reloaded = first.output().contains("reloaded the TLS certificate")
            usleep(50_000)
        }
        #expect(reloaded, "\(first.output())")
        #expect(try curl(base, "GET", "/healthz").contains("ok"))
        first.kill()
        for canary in canaries { try Self.expectNowhere(canary, under: data, or: first.output() + shown) }

        // After the SIGKILL the pipeline resumes with the password it opens from the store.
        let (second, plain) = try serve()
        defer { second.kill() }
        let listed = try curl(plain, "GET", "/v1/sources")
        #expect(listed.contains(#""name":"s0""#) && listed.contains(#""name":"s1""#), "\(listed)")
        var shownAgain = listed + (try waitStreaming(plain))
        try postgres.execute("INSERT INTO t VALUES (2, 'after the kill')", database: database)
        shownAgain += try waitRow(plain, "after the kill")
        shownAgain += try sweep(plain, sources: ids)
        let secondPID = second.process.processIdentifier
        for name in ["cmdline", "environ"] {
            shownAgain += String(
                decoding: (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(secondPID)/\(name)"))) ?? Data(),
                as: UTF8.self)
        }
        _ = try curl(plain, "DELETE", "/v1/pipelines/canary?drop_slot=true", json: "{}")
        let slots = try postgres.execute("SELECT count(*) FROM pg_replication_slots WHERE database = '\(database)'")
        #expect(slots.rows == [["0"]], "the pipeline's slot was not dropped")
        second.kill()
        for canary in canaries { try Self.expectNowhere(canary, under: data, or: second.output() + shownAgain) }

        let otherKey = directory.appendingPathComponent("other.key")
        try Data("\(Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())\n".utf8)
            .write(to: otherKey)
        chmod(otherKey.path, 0o600)
        let refused = try PopsinkProcess.run(
            [
                "serve", "--listen", "127.0.0.1:0", "--data-dir", data.path, "--token-file", tokenFile.path,
                "--secret-key-file", otherKey.path,
            ], timeout: 60)
        #expect(refused.status != 0)
        #expect(
            refused.output.contains("password of source") && refused.output.contains("sealed with key"),
            "\(refused.output)")
    }

    /// A key file named by POPSINK_SECRET_KEY_FILE (or the flag) must exist: a
    /// mistyped path does not quietly start a new key; rotate-key uses the same file.
    @Test(.timeLimit(.minutes(5)))
    func aNamedKeyFileMustExistAndRotateKeyUsesIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let keyFile = directory.appendingPathComponent("elsewhere.key").path
        let missing = try PopsinkProcess.run(
            ["serve", "--listen", "127.0.0.1:0", "--data-dir", data], environment: ["POPSINK_SECRET_KEY_FILE": keyFile],
            timeout: 30)
        #expect(missing.status != 0 && missing.output.contains("does not exist"), "\(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: keyFile))

        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        FileManager.default.createFile(
            atPath: keyFile, contents: Data("\(key)\n".utf8), attributes: [.posixPermissions: 0o600])
        let serve = try PopsinkProcess.start(
            ["serve", "--listen", "127.0.0.1:0", "--data-dir", data], environment: ["POPSINK_SECRET_KEY_FILE": keyFile])
        for _ in 0..<600 where !serve.output().contains("listening on") && serve.isRunning { usleep(50_000) }
        #expect(serve.output().contains("listening on"), "\(serve.output())")
        serve.kill()
        #expect(!FileManager.default.fileExists(atPath: "\(data)/secret.key"))
        let rotated = try PopsinkProcess.run(["rotate-key", "--data-dir", data, "--secret-key-file", keyFile])
        #expect(rotated.status == 0, "\(rotated.output)")
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8) != "\(key)\n")
    }

    /// The paths of openapi.yaml that have a GET operation.
    static func getRoutes() -> [String] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("openapi.yaml")
        var routes: [String] = []
        var path: String?
        for line in ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n") {
            if line.hasPrefix("  /") && line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) }
            if line == "    get:", let path { routes.append(path) }
        }
        #expect(routes.count >= 13 && routes.contains("/v1/pipelines/{id}/consumers/{name}"), "\(routes)")
        return routes
    }

    /// The canary as is, in hex and in base64, in no file under `directory` and not in `log`
    /// (the log, API answers, metrics, the process's command line and environment).
    static func expectNowhere(_ canary: String, under directory: URL, or log: String) throws {
        let forms = [
            canary, canary.utf8.map { String(format: "%02x", $0) }.joined(), Data(canary.utf8).base64EncodedString(),
        ]
        let files =
            FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL } ?? []
        for file in files where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            let bytes = try Data(contentsOf: file)
            for form in forms { #expect(bytes.range(of: Data(form.utf8)) == nil, "\(file.path) holds the canary") }
        }
        for form in forms { #expect(!log.contains(form), "the log holds the canary") }
    }
}
