// HTTPS on the server's own event loop, tested with real TLS clients (curl and
// Python's ssl) against the test CA: requests and keep-alive over TLS 1.2 and
// 1.3, bodies larger than a TLS record both ways, a client that is not
// speaking TLS, a handshake that stalls (a slowloris before the first byte of
// HTTP), a head that stalls after the handshake (408 over TLS), a certificate
// reload, and files that cannot serve.

import Foundation
import HTTPServer
import PostgresTestSupport
import Testing

@Suite("Live: HTTPS")
struct LiveTLSTests {
    let certificates: TestCertificates
    init() throws { certificates = try TestCertificates.shared() }

    func tls() throws -> HTTPServerTLS {
        try HTTPServerTLS(certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey)
    }

    /// Echoes method, target and the body's length; `/big` answers 1 MiB.
    static let handler: HTTPHandler = { request in
        if request.target == "/big" { return .text(String(repeating: "0123456789abcdef", count: 65_536)) }
        return .text("\(request.method) \(request.target) \(request.body.count)")
    }

    @Test(arguments: ["--tlsv1.2 --tls-max 1.2", "--tlsv1.3"])
    func curlSpeaksHTTPSWithTheTestCA(_ versions: String) async throws {
        try await withServer({ $0.tls = try? self.tls() }, handler: Self.handler) { port, _ in
            let body = FileManager.default.temporaryDirectory.appendingPathComponent("tls-body-\(UUID())")
            defer { try? FileManager.default.removeItem(at: body) }
            try Data(repeating: UInt8(ascii: "x"), count: 200_000).write(to: body)
            // Three requests on one connection (curl reuses it), a 200 kB upload, a 1 MiB download.
            let common =
                ["-sS", "--cacert", certificates.ca, "-w", "|%{http_code}|%{num_connects}\\n"]
                + versions.split(separator: " ").map(String.init)
            let run = try await Self.run(
                "/usr/bin/curl",
                common + ["https://localhost:\(port)/a", "--next"] + common
                    + ["--data-binary", "@\(body.path)", "https://localhost:\(port)/b"])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("GET /a 0|200|1"), "\(run.output)")
            #expect(run.output.contains("POST /b 200000|200|0"), "keep-alive over TLS: \(run.output)")
            let big = try await Self.run(
                "/usr/bin/curl",
                [
                    "-sS", "--cacert", certificates.ca, "-o", "/dev/null", "-w", "%{size_download}",
                    "https://127.0.0.1:\(port)/big",
                ])
            #expect(big.output == "1048576", "\(big.output)")
        }
    }

    /// 16 clients at once, each 25 keep-alive requests with bodies on one TLS
    /// connection: the one loop thread serves every handshake and record
    /// without a client waiting on another.
    @Test func concurrentKeepAliveClientsAreAllServed() async throws {
        try await withServer({ $0.tls = try? self.tls() }, handler: Self.handler) { port, _ in
            let script = """
                import http.client, ssl, sys, threading
                context = ssl.create_default_context(cafile=sys.argv[1])
                results = []
                def client(n):
                    connection = http.client.HTTPSConnection("localhost", int(sys.argv[2]), context=context, timeout=60)
                    for i in range(25):
                        body = b"x" * (i * 1000)
                        connection.request("POST", f"/c{n}/{i}", body=body)
                        answer = connection.getresponse().read().decode()
                        results.append(answer == f"POST /c{n}/{i} {len(body)}")
                    connection.close()
                threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
                for thread in threads: thread.start()
                for thread in threads: thread.join()
                print(sum(results), len(results))
                """
            let run = try await Self.run("/usr/bin/env", ["python3", "-c", script, certificates.ca, String(port)])
            #expect(run.output == "400 400", "\(run.output)")
        }
    }

    @Test func aClientThatDoesNotTrustTheCertificateIsRefusedByIt() async throws {
        try await withServer({ $0.tls = try? self.tls() }) { port, _ in
            let run = try await Self.run(
                "/usr/bin/curl", ["-sS", "--cacert", certificates.otherCA, "https://localhost:\(port)/"])
            #expect(run.status == 60, "curl: \(run.output)")
        }
    }

    @Test func plaintextHTTPToTheHTTPSPortIsDroppedAndTheServerCarriesOn() async throws {
        try await withServer({ $0.tls = try? self.tls() }) { port, _ in
            let plain = try TestClient.connect(port: port)
            try await plain.send(rawRequest())
            #expect(try await plain.waitForClose())
            let garbage = try TestClient.connect(port: port)
            try await garbage.send((0..<4096).map { _ in UInt8.random(in: 0...255) })
            #expect(try await garbage.waitForClose())
            let run = try await Self.run(
                "/usr/bin/curl", ["-sS", "--cacert", certificates.ca, "https://localhost:\(port)/ok"])
            #expect(run.output == "GET /ok", "\(run.output)")
        }
    }

    /// A client that opens a TLS record and never finishes its ClientHello holds
    /// its slot only until the header deadline, like a slow plain-HTTP head.
    @Test func aStalledHandshakeIsClosedAtTheHeaderDeadline() async throws {
        try await withServer({
            $0.tls = try? self.tls()
            $0.headerTimeout = .seconds(1)
        }) { port, _ in
            let stalled = try TestClient.connect(port: port)
            // A handshake record header announcing 512 bytes, and 3 of them.
            try await stalled.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01])
            let start = ContinuousClock.now
            #expect(try await stalled.waitForClose(timeout: .seconds(30)))
            #expect(ContinuousClock.now - start < .seconds(30))
        }
    }

    /// After the handshake the HTTP limits apply as they are: a head that stops half-way gets 408, encrypted.
    @Test func aStalledHeadAfterTheHandshakeGets408OverTLS() async throws {
        try await withServer({
            $0.tls = try? self.tls()
            $0.headerTimeout = .seconds(1)
        }) { port, _ in
            let script = """
                import socket, ssl, sys
                context = ssl.create_default_context(cafile=sys.argv[1])
                with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as raw:
                    with context.wrap_socket(raw, server_hostname="localhost") as tls:
                        print(tls.version())
                        tls.sendall(b"GET /slow HTTP/1.1\\r\\nHost: t\\r\\n")
                        tls.settimeout(30)
                        answer = b""
                        while True:
                            chunk = tls.recv(4096)
                            if not chunk:
                                break
                            answer += chunk
                        print(answer.split(b"\\r\\n")[0].decode())
                """
            let run = try await Self.run("/usr/bin/env", ["python3", "-c", script, certificates.ca, String(port)])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("TLSv1.3"), "\(run.output)")
            #expect(run.output.contains("HTTP/1.1 408"), "\(run.output)")
        }
    }

    @Test func reloadServesTheNewCertificateToNewConnections() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-reload-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("server.crt").path
        try FileManager.default.copyItem(atPath: certificates.serverCertificate, toPath: certificate)
        let tls = try HTTPServerTLS(certificateFile: certificate, keyFile: certificates.serverKey)
        try await withServer({ $0.tls = tls }) { port, _ in
            let arguments = ["-sS", "--cacert", certificates.ca, "https://localhost:\(port)/"]
            #expect(try await Self.run("/usr/bin/curl", arguments).status == 0)
            // The renewed file is an expired certificate for the same key: clients must now see it.
            try FileManager.default.removeItem(atPath: certificate)
            try FileManager.default.copyItem(atPath: certificates.expiredServerCertificate, toPath: certificate)
            try tls.reload()
            let after = try await Self.run("/usr/bin/curl", arguments)
            #expect(after.status == 60 && after.output.contains("expired"), "\(after.output)")
        }
    }

    @Test func filesThatCannotServeAreRefusedWithTheReason() throws {
        #expect {
            try HTTPServerTLS(certificateFile: "/nonexistent.crt", keyFile: certificates.serverKey)
        } throws: { error in
            let error = error as? HTTPServerError
            return error?.code == .tlsFailed && error?.description.contains("/nonexistent.crt") == true
        }
        #expect {
            try HTTPServerTLS(certificateFile: certificates.serverCertificate, keyFile: certificates.clientKey)
        } throws: { error in
            "\(error)".contains("does not belong to the certificate")
        }
        // An encrypted key fails at once rather than asking for a passphrase on the terminal.
        #expect {
            try HTTPServerTLS(
                certificateFile: certificates.clientCertificate, keyFile: certificates.encryptedClientKey)
        } throws: { error in
            "\(error)".contains("cannot use the TLS key")
        }
    }

    /// Runs a client to completion off the cooperative pool; stdout and stderr together, trimmed.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let run = try await ChildProcess.runOffPool(executable, arguments)
        return (run.status, run.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
