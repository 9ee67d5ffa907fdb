// `popsink-pg run`: one pipeline in the foreground.

import ArgumentParser
import CDC
import ControlPlane
import EventStore
import Foundation
import Logging
import PostgresReplication
import PostgresWire
import Sinks
import Synchronization

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Run one pipeline in the foreground: capture changes into the durable store and print them as JSON lines.",
        discussion: """
            Events are stored durably under --data-dir before Postgres is told it may forget them. Running again \
            with the same --data-dir resumes where the last run stopped (also after kill -9): no change is lost, \
            none is stored twice. SIGINT or SIGTERM stop cleanly with a final status update to Postgres.
            """)

    @OptionGroup var source: SourceOptions

    @Option(
        help: ArgumentHelp(
            "The publication that selects the tables to capture (default: popsink, or popsink_<pipeline> "
                + "with --managed-publication).", valueName: "name"))
    var publication: String?

    @Flag(
        help: ArgumentHelp(
            "Create and maintain the publication: it holds exactly the tables the filters select, so Postgres "
                + "does not send the others' changes. Needs CREATE on the database and ownership of those tables."))
    var managedPublication = false

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Leave these columns out of every event (schema.table.column globs; table.column or column too).",
            valueName: "glob"))
    var excludeColumns: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Replace these columns by their HMAC-SHA-256 under --hash-key-file (same pattern forms).",
            valueName: "glob"))
    var hashColumns: [String] = []

    @Option(help: ArgumentHelp("A file holding the secret key of --hash-columns.", valueName: "path"))
    var hashKeyFile: String?

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("Replace these columns' values by \"[redacted]\" (same pattern forms).", valueName: "glob"))
    var redactColumns: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Cut these columns' values to N characters: glob=N (same pattern forms).", valueName: "glob=N"))
    var truncateColumns: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Keep these columns as they are (lets them through --new-columns exclude).", valueName: "glob"))
    var keepColumns: [String] = []

    @Option(
        help: ArgumentHelp(
            "Columns a table with masking rules gains later: include, or exclude until a rule names them.",
            valueName: "include|exclude"))
    var newColumns: String = "include"

    @Option(help: ArgumentHelp("The pipeline's id: names its store and its default slot.", valueName: "id"))
    var pipeline = "default"

    @Option(
        help: ArgumentHelp(
            "The replication slot to create or resume (default: popsink_<pipeline>).", valueName: "name"))
    var slot: String?

    @Option(help: ArgumentHelp("Where the event store and checkpoints live.", valueName: "path"))
    var dataDir = "./popsink-data"

    @Option(
        help: ArgumentHelp(
            "Also write each stored event as a JSON line here: a file (appended to and resumed without gaps or repeats) "
                + "or - for standard output.", valueName: "path|-"))
    var output: String?

    @Option(
        help: ArgumentHelp(
            "With --output -: print the stored events from this sequence number on (default: only those stored from now on). "
                + "A file resumes after its own last line.", valueName: "seq"))
    var fromSeq: Int64?

    @Option(
        help: ArgumentHelp(
            "Delete stored events older than this: a number with s, m, h or d (default 7d), or 'forever'.",
            valueName: "age"))
    var retainFor = "7d"

    @Option(
        help: ArgumentHelp(
            "Delete the oldest stored events once their bodies pass this size: a number with K, M, G or T (default 10G), or 'unlimited'.",
            valueName: "size"))
    var retainBytes = "10G"

    @Option(
        help: ArgumentHelp(
            "Also forward each stored event to a sink, resuming from what it holds: nats://host:port[?stream=…], "
                + "kafka://host:port[?topic=…], http://host/path (signed with $POPSINK_WEBHOOK_SECRET) or a JSON sink "
                + "object. Repeatable.", valueName: "spec"))
    var sink: [String] = []

    @Option(
        help: ArgumentHelp(
            "Exit 0 once every change up to this LSN is durable; 'current' means the server's WAL insert position at start.",
            valueName: "lsn|current"))
    var endLSN: String?

    @OptionGroup var filters: FilterOptions

    @Option(
        help: ArgumentHelp(
            "Pass logical messages (pg_logical_emit_message) whose prefix starts with this as 'm' events; repeatable.",
            valueName: "prefix"))
    var messagePrefix: [String] = []

    @Flag(help: "Do not snapshot the tables' existing rows when the slot is created; capture only new changes.")
    var noSnapshot = false

    @Option(
        help: ArgumentHelp(
            "Connections reading the snapshot in parallel (default: the number of cores).", valueName: "n"))
    var snapshotWorkers: Int?

    @Option(
        help: ArgumentHelp(
            "Heap pages (8 KiB) per chunk of the snapshot; large tables are split into chunks read in parallel.",
            valueName: "pages"))
    var snapshotChunkPages: UInt32 = SnapshotOptions().chunkPages

    @Option(
        help: ArgumentHelp(
            "Rows of the snapshot stored per commit (fewer, once a second); each commit is an fsync.",
            valueName: "rows"))
    var snapshotRowsPerGroup: Int = SnapshotOptions().rowsPerGroup

    @Option(
        help: ArgumentHelp(
            "Seconds without a word from Postgres (a query's answer; on the replication stream, any message, "
                + "a keepalive being asked for halfway) before the connection is taken for dead and reopened.",
            valueName: "seconds"))
    var receiveTimeout: Int = 60

    @Flag(
        help: "Log each state change and retry to standard error, and a summary (events stored, peak memory) at exit.")
    var verbose = false

    func validate() throws {
        guard DataDirectory.isValidPipelineID(pipeline) else {
            throw ValidationError("--pipeline must be 1 to 64 letters, digits, '_' or '-'.")
        }
        if let slot, SlotName(rawValue: slot) == nil {
            throw ValidationError("--slot must be 1 to 63 lower-case letters, digits or '_' (a Postgres slot name).")
        }
        guard (2...86_400).contains(receiveTimeout) else {
            throw ValidationError("--receive-timeout must be 2 to 86400 seconds.")
        }
        // The same bounds as the API's `snapshot` object.
        if let violation = SnapshotSettings.violations(
            workers: snapshotWorkers, chunkPages: Int(snapshotChunkPages), rowsPerGroup: snapshotRowsPerGroup
        ).first {
            let option =
                switch violation.field {
                case .workers: "--snapshot-workers"
                case .chunkPages: "--snapshot-chunk-pages"
                case .rowsPerGroup: "--snapshot-rows-per-group"
                }
            throw ValidationError("\(option) \(violation.message).")
        }
        if let fromSeq {
            guard output == "-" else {
                throw ValidationError("--from-seq is for --output -; a file resumes after its own last line.")
            }
            guard fromSeq >= 1 else { throw ValidationError("--from-seq must be a sequence number, 1 or more.") }
        }
        _ = try retention()
        for spec in sink {
            do { _ = try SinkConfig(spec: spec) } catch { throw ValidationError("--sink \(error.message)") }
        }
        if let endLSN, endLSN != "current", LSN(endLSN) == nil {
            throw ValidationError("--end-lsn must be an LSN like 0/16B3748, or 'current'.")
        }
    }

    /// The masking of --exclude-columns and --hash-columns; nil when neither is given.
    private func columnMask() throws -> ColumnMask? {
        guard let newColumns = ColumnMask.NewColumns(rawValue: newColumns) else {
            throw ValidationError("--new-columns must be include or exclude.")
        }
        var truncate: [String: Int] = [:]
        for spec in truncateColumns {
            guard let equals = spec.lastIndex(of: "="), let length = Int(spec[spec.index(after: equals)...]),
                length >= 1, equals != spec.startIndex
            else { throw ValidationError("--truncate-columns takes glob=N with N at least 1, not '\(spec)'.") }
            truncate[String(spec[..<equals])] = length
        }
        let rules = excludeColumns + hashColumns + redactColumns + keepColumns + truncate.keys
        guard !rules.isEmpty else { return nil }
        var key = ""
        if !hashColumns.isEmpty {
            guard let hashKeyFile else {
                throw ValidationError("--hash-columns needs --hash-key-file: the same key must hash every run.")
            }
            key = try String(contentsOfFile: hashKeyFile, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard key.utf8.count >= 16 else {
                throw ValidationError("the key in --hash-key-file must be at least 16 bytes.")
            }
        }
        return ColumnMask(
            exclude: excludeColumns, hash: hashColumns, redact: redactColumns, truncate: truncate, keep: keepColumns,
            newColumns: newColumns, hashKey: key)
    }

    func run() async throws {
        let logger = Logger(label: "popsink-pg")
        let storePath = DataDirectory(path: dataDir).eventStorePath(pipelineID: pipeline)
        var config = try PipelineConfig(
            id: pipeline, source: try source.settings(),
            publication: publication
                ?? (managedPublication ? PipelineConfig.defaultManagedPublication(pipelineID: pipeline) : "popsink"),
            slot: slot.flatMap { SlotName(rawValue: $0) }, storePath: storePath,
            filter: filters.filter,
            endPosition: endLSN.map { $0 == "current" ? .current : .lsn(LSN($0)!) },
            snapshot: try SnapshotSettings(
                enabled: !noSnapshot, workers: snapshotWorkers, chunkPages: Int(snapshotChunkPages),
                rowsPerGroup: snapshotRowsPerGroup
            ).options(),
            retention: try retention())
        config.receiveTimeout = .seconds(receiveTimeout)
        config.messages = MessageFilter(prefixes: messagePrefix)
        config.publicationMode = managedPublication ? .managed : .existing
        config.columnMask = try columnMask()

        let tailer = try output.map { try makeTailer(output: $0, storePath: storePath) }
        // A sink that stops for good (refused, diverged) stops the run: run has no other way to say so.
        let running = Mutex<Pipeline?>(nil)
        let sinks = PipelineSinks(
            try sink.map { try SinkConfig(spec: $0) }, pipelineID: config.id, storePath: storePath,
            onParked: { name, error in
                FileHandle.standardError.write(Data("popsink-pg: sink \(name) stopped: \(error)\n".utf8))
                if let pipeline = running.withLock({ $0 }) { Task { await pipeline.stop() } }
            })
        if sinks.boundsConfirmation { config.confirmLimit = { sinks.confirmLimit(storeLast: $0) } }
        let pipeline = Pipeline(
            config: config,
            onDurable: { sequence in
                tailer?.durable(upTo: sequence)
                sinks.durable(upTo: sequence)
            })
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) {
            Task { await pipeline.stop() }
        }
        defer { signals.cancel() }
        running.withLock { $0 = pipeline }

        await pipeline.start()
        tailer?.start()
        sinks.start()
        let reporter = verbose ? StateReporter(pipeline: pipeline, logger: logger) : nil
        let loadProgress = SnapshotProgressDisplay(pipeline: pipeline)
        let outcome = await pipeline.waitUntilFinished()
        reporter?.cancel()
        await loadProgress.finish()
        if verbose {
            let peak = PeakResidentMemory.bytes().map { "\($0 >> 20) MiB" } ?? "unknown"
            let status = pipeline.status
            logger.info(
                "pipeline \(config.id): \(status.state.rawValue); stored \(status.eventsStored) events in \(status.transactionsStored) transactions; flushed to \(status.flushedLSN); SQLite peak \(SQLiteMemory.highWater >> 20) MiB; peak RSS \(peak)"
            )
        }

        let finalSequence = (try? EventStoreReader(path: storePath).lastSequence()) ?? 0
        try await tailer?.finish(upTo: finalSequence)
        // What is stored goes out before exit while the sink makes progress; one stalled for 30 s resumes on the next run.
        for forwarder in sinks.forwarders {
            _ = forwarder.waitUntilDelivered(finalSequence, stalledFor: 30)
            forwarder.stop()
            if verbose { logger.info("\(forwarder.status.summary)") }
        }
        if case .failed(let error) = outcome {
            FileHandle.standardError.write(Data("popsink-pg: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if sinks.statuses.contains(where: { $0.state == .parked }) { throw ExitCode(1) }
    }

    private func makeTailer(output: String, storePath: String) throws -> OutputTailer {
        let after = try JSONLinesFile.startAfter(output: output, fromSequence: fromSeq, storePath: storePath)
        return OutputTailer(storePath: storePath, sink: try JSONLinesFile(path: output, append: true), after: after)
    }

    /// `--retain-for` and `--retain-bytes` as a policy; the hard cap for named
    /// consumers is four times the size limit.
    func retention() throws -> RetentionPolicy {
        guard let age = RetentionArgument.age(retainFor) else {
            throw ValidationError("--retain-for must be a number with s, m, h or d (such as 36h or 7d), or 'forever'.")
        }
        guard let bytes = RetentionArgument.bytes(retainBytes) else {
            throw ValidationError(
                "--retain-bytes must be a number with K, M, G or T (such as 500M or 10G), or 'unlimited'.")
        }
        let policy = RetentionPolicy(
            maxAge: age, maxBytes: bytes,
            hardMaxBytes: bytes.map { $0.multipliedReportingOverflow(by: 4).overflow ? .max : $0 * 4 })
        if let violation = policy.violation { throw ValidationError("Retention: \(violation).") }
        return policy
    }
}
