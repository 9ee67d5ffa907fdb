// Exactly-once for big streamed transactions under a real crash: a child
// process stages transactions of 4,500 events over three groups and commits
// each by reference, in a loop, and is killed with SIGKILL at an arbitrary
// moment (while staging, during the move, right after). Then the store holds
// whole transactions only, each event completed exactly, gap-free; a new
// session's discard leaves nothing staged and no frame that no block uses.
// The child is this test binary re-run with a filter (CrashTests.startChild).

#if os(Linux)
    import EventStore
    import Foundation
    import PostgresWire
    import Testing

    @Suite struct StagedCrashTests {
        static let storeVariable = "EVENTSTORE_STAGED_CRASH_CHILD_STORE"
        static let eventsPerTransaction = 4500
        static var childStorePath: String? { ProcessInfo.processInfo.environment[storeVariable] }

        @Test func killingTheWriterWhileStagingOrMovingLosesAndRepeatsNothing() throws {
            try withTemporaryDirectory { directory in
                let path = directory + "/events.db"
                for round in 1...4 {
                    let before =
                        FileManager.default.fileExists(atPath: path)
                        ? try EventStoreReader(path: path).lastSequence() : 0
                    let child = try CrashTests.startChild(
                        storePath: path, filter: "stagingWriterChild", variable: Self.storeVariable)
                    defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }
                    try CrashTests.waitUntil(timeout: 120, "the child to commit transactions in round \(round)") {
                        FileManager.default.fileExists(atPath: path)
                            && (try? EventStoreReader(path: path).lastSequence()) ?? 0
                                >= before + Int64(Self.eventsPerTransaction)
                    }
                    usleep(UInt32.random(in: 0..<400_000))
                    kill(child.processIdentifier, SIGKILL)
                    child.waitUntilExit()
                    #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL)
                    try Self.verify(path: path)
                }
            }
        }

        /// The child half: a session start's discard, then big transactions until killed (or for 120 s).
        @Test(.enabled(if: childStorePath != nil, "runs only as the child of the staged crash test"))
        func stagingWriterChild() throws {
            let writer = try EventStoreWriter(path: try #require(Self.childStorePath))
            try writer.discardAllStaged()
            var lsn = writer.checkpoint?.lastCommitLSN.rawValue ?? 0x1_0000_0000
            var xid = UInt32(truncatingIfNeeded: lsn >> 8)
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                lsn += 0x100
                xid &+= 1
                _ = try StagedByReferenceTests.bigTransaction(
                    writer, xid: xid, count: Self.eventsPerTransaction, groups: 3, lsn: lsn)
            }
        }

        static func verify(path: String) throws {
            let writer = try EventStoreWriter(path: path)  // runs WAL recovery, as a restarted pipeline would
            defer { writer.close() }
            let reader = try EventStoreReader(path: path)
            let events = try reader.events(after: 0, limit: .max, maxBytes: .max)
            #expect(events.count % eventsPerTransaction == 0)
            #expect(events.map(\.sequence) == (0..<events.count).map { Int64($0 + 1) })
            #expect(writer.lastSequence == Int64(events.count))
            #expect(events.last?.commitLSN == writer.checkpoint?.lastCommitLSN)
            for (index, event) in events.enumerated() {
                let ordinal = index % eventsPerTransaction
                guard event.ordinal == Int32(ordinal),
                    event.commitLSN == events[index - ordinal].commitLSN,
                    event.body == StagedEventsTests.completed(ordinal, ordinal: ordinal, lsn: event.commitLSN.rawValue)
                else {
                    Issue.record("event \(event.sequence) (\(event.id)) is out of place")
                    return
                }
            }
            try writer.discardAllStaged()
            let frames = try StagedByReferenceTests.frames(path)
            #expect(frames.orphans == 0 && frames.staged == 0)
        }
    }
#endif
