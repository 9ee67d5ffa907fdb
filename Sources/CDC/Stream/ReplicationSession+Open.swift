// How a session starts streaming: connect (a SQL connection for the catalog
// and the server's position, a replication connection for the stream), check
// the slot against the store (`SlotGuard`), load the snapshot when the slot
// was just created, build the stream machine from what the store holds, look
// at the captured table set, then START_REPLICATION.

import EventStore
import PgOutput
import PostgresReplication
import PostgresWire

extension ReplicationSession {
    /// What one run holds besides the machine: the connections and the stream.
    struct Links {
        let stream: ReplicationStream
        let relations: RelationResolver
        let poller: ServerPoller
        let pieces: WatermarkPieceReader
        let tableSet: TableSetWatch
        let managedPublication: ManagedPublicationKeeper?
    }

    enum Opening {
        /// Ended before streaming: stopped during the snapshot, or a bounded run already at its end.
        case ended(End)
        case streaming(StreamMachine, Links)
    }

    func open() throws -> Opening {
        let sql = try PostgresConnection(settings: config.source, mode: .sql, applicationName: "popsink-pg catalog")
        sql.queryTimeout = config.receiveTimeout
        let poller = ServerPoller(connection: sql, slot: config.slot)
        let replication = try PostgresConnection(settings: config.source, mode: .logicalReplication)
        progress.update { $0.tls = replication.security }
        let identity = try replication.identifySystem()
        let managedPublication = try ManagedPublicationKeeper.start(config: config, connection: sql, store: store)
        try poller.checkPublication(config.publication)
        if resolvedEndLSN == nil, config.endPosition == .current {
            resolvedEndLSN = try poller.currentInsertPosition()
        } else if case .lsn(let lsn) = config.endPosition {
            resolvedEndLSN = lsn
        }

        let prepared = try SlotGuard.prepare(
            slot: config.slot, store: store, sql: sql, replication: replication, identity: identity,
            snapshot: config.snapshot.enabled)
        var start = prepared.lsn
        if let snapshot = prepared.snapshot {
            // The replication connection keeps the exported snapshot alive
            // until its next command, so the load runs before START_REPLICATION.
            let outcome = try SnapshotLoad.run(
                config: config, snapshot: snapshot, consistentPoint: start, database: identity.database ?? "",
                store: store, progress: progress, shouldStop: shouldStop)
            onDurable(store.lastSequence)
            progress.update { $0.flushedLSN = start }
            if outcome == .stopped { return .ended(.stopped) }
            start = store.checkpoint?.flushLSN ?? start
        }
        let catalog = CatalogLookup(connection: sql)
        var watermark =
            prepared.snapshot == nil
            ? try WatermarkSnapshot.resume(config: config, store: store, sql: sql, catalog: catalog) : nil
        watermark?.label(Backfill.decode(try store.metadata(Backfill.metadataKey)))
        let version = PostgresConnection.pgoutputProtocolVersion(serverVersion: replication.serverVersion)
        var machine = StreamMachine(
            protocolVersion: version, database: identity.database ?? "",
            checkpoint: store.checkpoint ?? Checkpoint(lastCommitLSN: .zero, flushLSN: start), start: start,
            settings: .init(
                groupCommit: config.groupCommit, statusInterval: config.statusInterval, endLSN: resolvedEndLSN,
                messages: config.messages, columnMask: config.columnMask, preEncodeStreamed: true),
            watermark: watermark, now: clock.now, schemaRegistry: try SchemaRegistry(stored: store.latestTableSchemas())
        )
        // New filters, or tables added or removed while the pipeline was
        // stopped: looked at before a bounded run may end at once, since its
        // end waits for the change to be applied.
        let tableSet = try TableSetWatch(config: config, connection: sql, catalog: catalog, store: store)
        let initial = try tableSet.check(store: store)
        if let initial { machine.tableSetChanging(initial) }
        if machine.reachedEnd { return .ended(.reachedEnd) }

        // Unfinished streamed transactions are streamed again from their start.
        try store.discardAllStaged()
        let stream = try replication.startLogicalReplication(
            slot: config.slot, start: start, protocolVersion: version, publications: [config.publication],
            streaming: version >= 2)
        progress.update {
            $0.state = watermark == nil ? .streaming : .snapshotting
            if let watermark { $0.snapshot = watermark.progress }
            $0.flushedLSN = machine.checkpoint.flushLSN
            $0.receivedLSN = start
            $0.retryAttempt = 0
            $0.lastError = nil
            $0.sessionsStarted += 1
        }
        let links = Links(
            stream: stream, relations: RelationResolver(catalog: catalog, tableSet: tableSet, mask: config.columnMask),
            poller: poller, pieces: WatermarkPieceReader(config: config), tableSet: tableSet,
            managedPublication: managedPublication)
        progress.update { $0.tableSetCheck = initial == nil ? .unchanged : .changing }
        try backfills.refresh()
        return .streaming(machine, links)
    }
}
