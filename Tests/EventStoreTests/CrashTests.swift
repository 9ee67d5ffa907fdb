// Exactly-once under a real crash: a child process writes groups as fast as it
// can and is killed with SIGKILL at an arbitrary moment, mostly in the middle
// of a group; then the store must hold whole groups only, gap-free, with the
// checkpoint of the last one. The child is this same test binary re-run with a
// filter that selects `crashingWriterChild`, which only runs when the parent
// sets EVENTSTORE_CRASH_CHILD_STORE (it shows as skipped otherwise).

#if os(Linux)
    import EventStore
    import Foundation
    import PostgresWire
    import Testing

    @Suite struct CrashTests {
        static let storeVariable = "EVENTSTORE_CRASH_CHILD_STORE"
        static let eventsPerTransaction: Int32 = 4
        static let transactionsPerGroup = 500
        static var childStorePath: String? { ProcessInfo.processInfo.environment[storeVariable] }

        @Test func killingTheWriterMidGroupLeavesWholeGroupsOnly() throws {
            try withTemporaryDirectory { directory in
                let path = directory + "/events.db"
                for round in 1...3 {
                    let before =
                        FileManager.default.fileExists(atPath: path)
                        ? try EventStoreReader(path: path).lastSequence() : 0
                    let child = try Self.startChild(storePath: path)
                    defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }
                    // Let it commit a few groups, then kill it wherever it is.
                    try Self.waitUntil(timeout: 60, "the child to commit groups in round \(round)") {
                        FileManager.default.fileExists(atPath: path)
                            && (try? EventStoreReader(path: path).lastSequence()) ?? 0
                                >= before + 3 * Int64(Self.transactionsPerGroup) * Int64(Self.eventsPerTransaction)
                    }
                    usleep(UInt32.random(in: 0..<20_000))
                    kill(child.processIdentifier, SIGKILL)
                    child.waitUntilExit()
                    #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL)

                    try Self.verifyWholeGroups(path: path)
                }
                // The writer carries on after the last crash.
                let writer = try EventStoreWriter(path: path)
                let last = writer.lastSequence
                try writer.beginGroup()
                #expect(try writer.append(commitLSN: LSN(UInt64.max >> 2), ordinal: 0, body: [1]) == last + 1)
                writer.rollbackGroup()
            }
        }

        /// The child half: writes groups until killed (or for 60 s, so an orphan
        /// cannot run forever).
        @Test(.enabled(if: childStorePath != nil, "runs only as the child of the crash test"))
        func crashingWriterChild() throws {
            let writer = try EventStoreWriter(path: try #require(Self.childStorePath))
            var lsn = writer.checkpoint?.lastCommitLSN.rawValue ?? 0x1_0000_0000
            let padding = [UInt8](repeating: 0x2E, count: 300)
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                try writer.beginGroup()
                for _ in 0..<Self.transactionsPerGroup {
                    lsn += 0x100
                    for ordinal in 0..<Self.eventsPerTransaction {
                        try writer.append(
                            commitLSN: LSN(lsn), ordinal: ordinal, body: body(LSN(lsn), ordinal) + padding)
                    }
                }
                try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(lsn), flushLSN: LSN(lsn + 0x28)))
            }
        }

        /// Runs the child test `filter` selects, which writes the store named by `variable`.
        static func startChild(
            storePath: String, filter: String = "crashingWriterChild", variable: String = storeVariable
        ) throws -> Process {
            let child = Process()
            child.executableURL = URL(
                fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            child.arguments = ["--testing-library", "swift-testing", "--filter", filter]
            child.environment = ProcessInfo.processInfo.environment.merging([variable: storePath]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            return child
        }

        static func waitUntil(timeout: TimeInterval, _ what: String, _ condition: () -> Bool) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while !condition() {
                guard Date() < deadline else { throw CrashTestTimeout(waitingFor: what) }
                usleep(10_000)
            }
        }

        /// Whole groups, gap-free sequences, whole transactions, and a checkpoint
        /// that is exactly the last stored transaction.
        static func verifyWholeGroups(path: String) throws {
            let writer = try EventStoreWriter(path: path)  // runs WAL recovery, as a restarted pipeline would
            defer { writer.close() }
            let reader = try EventStoreReader(path: path)
            let checkpoint = try #require(try reader.checkpoint())
            let events = try reader.events(after: 0, limit: .max, maxBytes: .max)
            let groupSize = transactionsPerGroup * Int(eventsPerTransaction)
            #expect(events.count % groupSize == 0)
            #expect(events.map(\.sequence) == Array(1...Int64(events.count)))
            #expect(try reader.lastSequence() == Int64(events.count))
            #expect(writer.lastSequence == Int64(events.count))
            #expect(events.last?.commitLSN == checkpoint.lastCommitLSN)
            #expect(checkpoint.flushLSN == LSN(checkpoint.lastCommitLSN.rawValue + 0x28))
            for (index, event) in events.enumerated() {
                guard event.ordinal == Int32(index % Int(eventsPerTransaction)),
                    event.body.starts(with: body(event.commitLSN, event.ordinal))
                else {
                    Issue.record("event \(event.sequence) (\(event.id)) is out of place")
                    return
                }
            }
        }
    }

    struct CrashTestTimeout: Error, CustomStringConvertible {
        let waitingFor: String
        var description: String { "timed out waiting for \(waitingFor)" }
    }
#endif
