// `popsink-pg serve`: the service. Sources and pipelines persist in the data
// directory; pipelines that were running start again on their own; the REST
// API of openapi.yaml, /metrics and the dashboard in Public/ are served over
// our own HTTP server.

import ArgumentParser
import CDC
import ControlPlane
import Foundation
import HTTPServer
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the service: the REST API, /metrics, the dashboard, and every pipeline that should be running.",
        discussion: """
            With --token-file or POPSINK_API_TOKEN, every /v1 route and /metrics need Authorization: Bearer <token>; \
            /healthz and /readyz stay open. Listening on a non-loopback address needs a token unless \
            --insecure-no-auth is given. SIGINT or SIGTERM stop accepting, finish requests in flight, stop every \
            pipeline with a final status update to Postgres, and exit.
            """)

    @Option(help: ArgumentHelp("Address and port to listen on.", valueName: "host:port"))
    var listen = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("Where the state store and the pipelines' event stores live.", valueName: "path"))
    var dataDir = "./popsink-data"

    @Option(help: ArgumentHelp("Read the API bearer token from this file (first line).", valueName: "path"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("The folder of the web dashboard served at /.", valueName: "path"))
    var publicDir = "Public"

    @OptionGroup var secretKey: SecretKeyFileOption

    @Option(
        help: ArgumentHelp(
            "Serve HTTPS with this PEM certificate (chain: the server's first). Needs --tls-key. SIGHUP reloads both.",
            valueName: "path"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The PEM private key of --tls-cert (unencrypted, 0600).", valueName: "path"))
    var tlsKey: String?

    @Option(
        help: ArgumentHelp(
            "The only directory under which API sources may name sslrootcert, sslcert, sslkey and sslcrl files. "
                + "Without it, certificates and keys are accepted only as PEM (sslrootcert_pem, …).",
            valueName: "path"))
    var certificateDir: String?

    @Flag(help: "Allow a non-loopback address without a token.")
    var insecureNoAuth = false

    @Option(
        help: ArgumentHelp(
            "Connections served at once; one more is answered 503 and closed. Default: 1024, or half the open-file "
                + "limit (ulimit -n) if that is lower.", valueName: "count"))
    var maxConnections: Int?

    @Option(help: ArgumentHelp("Connections served at once from one client IP address.", valueName: "count"))
    var maxConnectionsPerClient = 64

    @Option(help: ArgumentHelp("Seconds a request's head may take to arrive (408 after).", valueName: "seconds"))
    var headerTimeout = 10

    @Option(
        help: ArgumentHelp(
            "Seconds a whole request, head and body, may take to arrive (408 after).", valueName: "seconds"))
    var requestTimeout = 60

    @Option(help: ArgumentHelp("Seconds an idle keep-alive connection stays open.", valueName: "seconds"))
    var keepAliveTimeout = 15

    @Option(
        help: ArgumentHelp(
            "Seconds after which a connection closes once its request in flight is done.", valueName: "seconds"))
    var maxConnectionAge = 600

    func run() async throws {
        // First thing: a stop request during startup (opening the stores,
        // resuming pipelines) is kept and acted on once the server runs.
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM])
        defer { signals.cancel() }
        let logger = Logger(label: "popsink-pg")
        let (host, port) = try parseListen()
        // Before the stores open: it raises the open-file limit they draw on too.
        let configuration = try serverConfiguration(host: host, port: port)
        let token = try loadToken()
        if token == nil && !ListenHost.isLoopback(host) && !insecureNoAuth {
            throw ValidationError(
                "Listening on \(host) without a token would expose the API: set POPSINK_API_TOKEN or --token-file "
                    + "(or pass --insecure-no-auth).")
        }

        if let tls = configuration.tls {
            logger.info("serving HTTPS with \(tls.certificateFile); SIGHUP reloads the certificate and key")
        } else if !ListenHost.isLoopback(host) {
            logger.warning(
                """
                listening on \(host) without TLS: the token and every captured row cross the network in clear. \
                Give --tls-cert and --tls-key, or put a TLS proxy in front.
                """)
        }

        let dataDirectory = DataDirectory(path: dataDir)
        let storePath = "\(dataDir)/state.sqlite"
        let store = try SQLiteStateStore(path: storePath, keyring: secretKey.keyring(storePath: storePath))
        let registry = PipelineRegistry(store: store, dataDirectory: dataDirectory)
        let router = APIRouter(
            store: store, registry: registry, dataDirectory: dataDirectory, token: token,
            certificateDirectory: certificateDir)
        let handler = ServiceHandler(router: router, files: StaticFiles(root: publicDir), listenHost: host)
        let server = HTTPServer(configuration: configuration) { await handler.handle($0) }
        let bound = try server.start()
        let scheme = configuration.tls == nil ? "http" : "https"
        logger.info("popsink-pg listening on \(scheme)://\(host):\(bound) (data in \(dataDir))")
        await registry.resume()

        signals.onSignal { server.triggerShutdown() }
        let reloads = configuration.tls.map { tls in
            SignalWatcher(signals: [SIGHUP]) {
                do {
                    try tls.reload()
                    logger.info("reloaded the TLS certificate \(tls.certificateFile) and key \(tls.keyFile)")
                } catch {
                    logger.error("kept the previous TLS certificate: \(error)")
                }
            }
        }
        defer { reloads?.cancel() }
        try await server.run()
        await registry.shutdown()
        logger.info("popsink-pg stopped")
    }

    /// The open-file limit is raised first: connections, SQLite files and libpq
    /// connections all draw on it, and the server's share is half of it.
    private func serverConfiguration(host: String, port: Int) throws -> HTTPServerConfiguration {
        let limit = FileDescriptorBudget.raiseSoftLimit()
        let budget = FileDescriptorBudget.maxConnections(forLimit: limit)
        var configuration = HTTPServerConfiguration(host: host, port: port)
        if let maxConnections {
            guard (1...budget).contains(maxConnections) else {
                throw ValidationError(
                    "--max-connections \(maxConnections) does not fit the open-file limit of \(limit) (at most \(budget), "
                        + "half the limit, so the stores and Postgres connections keep theirs): raise the limit "
                        + "(ulimit -n, LimitNOFILE=, docker --ulimit nofile=) or lower --max-connections.")
            }
            configuration.maxConnections = maxConnections
        } else {
            configuration.maxConnections = FileDescriptorBudget.defaultMaxConnections(limit: limit)
        }
        for (name, value) in [
            ("--max-connections-per-client", maxConnectionsPerClient), ("--header-timeout", headerTimeout),
            ("--request-timeout", requestTimeout), ("--keep-alive-timeout", keepAliveTimeout),
            ("--max-connection-age", maxConnectionAge),
        ] where value < 1 {
            throw ValidationError("\(name) must be at least 1, not \(value).")
        }
        configuration.maxConnectionsPerClient = maxConnectionsPerClient
        configuration.headerTimeout = .seconds(headerTimeout)
        configuration.requestTimeout = .seconds(requestTimeout)
        configuration.keepAliveTimeout = .seconds(keepAliveTimeout)
        configuration.maxConnectionAge = .seconds(maxConnectionAge)
        switch (tlsCert, tlsKey) {
        case (let certificate?, let key?):
            do {
                configuration.tls = try HTTPServerTLS(certificateFile: certificate, keyFile: key)
            } catch {
                throw ValidationError("\(error)")
            }
        case (nil, nil):
            break
        default:
            throw ValidationError("--tls-cert and --tls-key go together: give both, or neither for plain HTTP.")
        }
        return configuration
    }

    private func parseListen() throws -> (String, Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw ValidationError("--listen must be host:port, e.g. 127.0.0.1:8080") }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    private func loadToken() throws -> String? {
        if let tokenFile {
            do {
                return try APIToken.read(fromFile: tokenFile)
            } catch {
                throw ValidationError(error.description)
            }
        }
        return ProcessInfo.processInfo.environment["POPSINK_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
