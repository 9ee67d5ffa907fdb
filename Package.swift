// swift-tools-version: 6.0
import PackageDescription

/// One set of settings for every target: Swift 6 language mode (strict concurrency
/// is part of it) and `any` spelled out for existentials. Release builds
/// optimize across modules: the per-event path crosses PgOutput, CDC and
/// EventStore, and without it generic helpers such as `JSONWriter.integer`
/// stay unspecialized (bench/stream: 13.7% of the pipeline's CPU in that one call).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "popsink-pg",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "popsink-pg", targets: ["popsink-pg"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // C system libraries: the only places C headers enter the build.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // libssl and libcrypto: the TLS diagnosis of refused certificates, secrets at rest.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // LZ4: the event store's blocks (docs/STORE.md).
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        // epoll and eventfd, which Glibc's Swift module does not export.
        .systemLibrary(name: "CHTTPShims"),
        // The sinks' clients: NATS (JetStream), librdkafka, and libcrypto's HMAC for webhook signatures.
        .systemLibrary(name: "CNATS", pkgConfig: "libnats", providers: [.apt(["libnats-dev"])]),
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "COpenSSLCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // `Blocking.run`: the one way async code makes a blocking call (libpq,
        // SQLite, files), on threads the service owns. No dependencies, so every target can use it.
        .target(name: "Blocking", swiftSettings: swiftSettings),
        // Wire-level value types shared by the decoders: LSN, Postgres timestamps, byte readers.
        .target(name: "PostgresWire", swiftSettings: swiftSettings),
        // The one JSON writer (RFC 8259, UTF-8 into a byte buffer): change events and API responses.
        .target(name: "JSONText", swiftSettings: swiftSettings),
        // Pure pgoutput decoder and value conversion to JSON. No I/O.
        .target(name: "PgOutput", dependencies: ["JSONText", "PostgresWire"], swiftSettings: swiftSettings),
        // libpq connections, replication commands and the COPY BOTH loop.
        .target(
            name: "PostgresReplication",
            dependencies: ["Blocking", "CLibPQ", "COpenSSL", "PostgresWire"],
            swiftSettings: swiftSettings
        ),
        // The prerequisite report of `popsink-pg check` and the source check API.
        .target(name: "SourceCheck", dependencies: ["Blocking", "JSONText", "PostgresReplication"], swiftSettings: swiftSettings),
        // Secrets at rest: AES-256-GCM under a key file (the state store's source passwords).
        .target(name: "Secrets", dependencies: ["COpenSSL"], swiftSettings: swiftSettings),
        // Durable event log and checkpoints in SQLite.
        .target(name: "EventStore", dependencies: ["Blocking", "CLZ4", "CSQLite", "PostgresWire"], swiftSettings: swiftSettings),
        // Hand-written HTTP/1.1 server on POSIX sockets (epoll event loop on its own thread).
        .target(
            name: "HTTPServer", dependencies: ["Blocking", "CHTTPShims", "COpenSSL", "JSONText"], swiftSettings: swiftSettings
        ),
        // The pipeline engine: stream → events → store → flush LSN.
        .target(
            name: "CDC",
            dependencies: ["PgOutput", "PostgresReplication", "EventStore", "PostgresWire", "COpenSSL"],
            swiftSettings: swiftSettings
        ),
        // Prometheus metrics of pipelines and the API (swift-prometheus).
        .target(
            name: "Telemetry",
            dependencies: [
                "CDC", "PostgresWire",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The control plane: state store of sources and pipelines, pipeline registry.
        .target(
            name: "ControlPlane",
            dependencies: [
                "Blocking", "CDC", "EventStore", "HTTPServer", "JSONText", "PostgresReplication", "PostgresWire",
                "Secrets", "Sinks", "SourceCheck", "Telemetry",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Forwarders of a pipeline's stored events to NATS JetStream, Kafka and webhooks.
        .target(
            name: "Sinks",
            dependencies: ["EventStore", "JSONText", "PostgresWire", "CNATS", "CRdKafka", "COpenSSLCrypto"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "popsink-pg",
            dependencies: [
                "Blocking", "CDC", "ControlPlane", "EventStore", "HTTPServer", "PostgresReplication", "PostgresWire",
                "Secrets", "SourceCheck", "Sinks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Test support: a throwaway Postgres cluster per test process.
        .target(
            name: "PostgresTestSupport", dependencies: ["Blocking", "PostgresReplication"], path: "Tests/PostgresTestSupport",
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "BlockingTests", dependencies: ["Blocking"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresWireTests", dependencies: ["PostgresWire"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PgOutputTests",
            dependencies: ["PgOutput", "PostgresWire"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EventStoreTests",
            dependencies: ["EventStore", "PostgresWire"],
            // A store written by an earlier version, read in place by the upgrade test.
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: [
                // EventStore: its SQLite wrapper, to write a state store as an earlier version left it.
                "ControlPlane", "CDC", "EventStore", "HTTPServer", "PostgresReplication", "PostgresTestSupport",
                "Secrets", "Sinks",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", "CDC"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SinksTests",
            // popsink-pg: the crash test runs the binary.
            dependencies: [
                "Sinks", "EventStore", "PostgresWire", "CNATS", "CRdKafka", "PostgresTestSupport", "popsink-pg",
                // The sinks of the API, through an in-process service.
                "ControlPlane", "CDC", "HTTPServer",
            ],
            swiftSettings: swiftSettings
        ),
        // PostgresTestSupport: its test CA and certificates, for HTTPS.
        .testTarget(
            name: "HTTPServerTests", dependencies: ["HTTPServer", "PostgresTestSupport"], swiftSettings: swiftSettings
        ),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SourceCheckTests",
            dependencies: ["SourceCheck", "PostgresReplication", "PostgresTestSupport"],
            swiftSettings: swiftSettings
        ),
        // Test support: a database, data directory and pipeline per test, and the binary as a child process.
        .target(
            name: "PipelineTestSupport",
            dependencies: ["Blocking", "CDC", "EventStore", "PostgresReplication", "PostgresTestSupport", "PostgresWire"],
            path: "Tests/PipelineTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresReplicationTests", dependencies: ["PostgresReplication", "PostgresWire"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CDCTests",
            dependencies: [
                "CDC", "PgOutput", "PostgresReplication", "EventStore", "PostgresTestSupport", "PipelineTestSupport", "SourceCheck",
                "popsink-pg",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["CDC", "PostgresTestSupport", "PipelineTestSupport", "popsink-pg"],
            swiftSettings: swiftSettings
        ),
    ]
)
