// A snapshot that stops half way (a stop request here, kill -9 in
// CrashRecoveryTests) is finished with watermarks while streaming: chunks
// already stored are not read again, and the events still rebuild every
// table exactly, also with writers busy during and after the interruption.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import Synchronization
import Testing

extension HeavyTests {
    @Suite struct SnapshotResumeTests {
        static let existing = 100_000_001...100_200_000
        static let setup = """
            CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 0,
                                   note text NOT NULL DEFAULT repeat('x', 100));
            ALTER TABLE accounts REPLICA IDENTITY FULL;
            CREATE TABLE lines (line text, n int);
            ALTER TABLE lines REPLICA IDENTITY FULL;
            CREATE PUBLICATION popsink FOR TABLE accounts, lines;
            INSERT INTO accounts (id, balance) SELECT g, g % 1000 FROM generate_series(\(existing.lowerBound), \(existing.upperBound)) g;
            INSERT INTO lines SELECT 'line ' || (g % 500), g FROM generate_series(1, 20000) g;
            ANALYZE accounts, lines;
            """

        @Test(.timeLimit(.minutes(6)))
        func aStoppedLoadResumesWithWatermarksWhileWritersRun() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            var config = try harness.config(endPosition: nil)
            config.snapshot = SnapshotOptions(workers: 2, chunkPages: 64, rowsPerGroup: 2000)

            // Stop the first run once a chunk is stored.
            let first = PipelineWorker(config: config)
            let outcome = Mutex<PipelineOutcome?>(nil)
            first.start { result in outcome.withLock { $0 = result } }
            // Watched from a thread of its own: a task waiting for the cooperative
            // pool, busy with the rest of the suite, saw the first chunk too late
            // and the whole load had finished before the stop.
            let stopper = Thread { [first] in
                let deadline = Date().addingTimeInterval(120)
                while first.progress.status.snapshot.reduce(0, { $0 + $1.chunksDone }) == 0, Date() < deadline {
                    usleep(500)
                }
                first.requestStop()
            }
            stopper.start()
            while outcome.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
            #expect(outcome.withLock { $0 } == .stopped)

            let before = try Self.chunks(harness)
            let doneBefore = before.filter(\.isDone)
            #expect(!doneBefore.isEmpty, "no chunk finished before the stop")
            #expect(before.contains { !$0.isDone }, "the whole load finished before the stop: nothing to resume")
            #expect(try harness.events().allSatisfy { event in event.op == "r" })

            // Writers change the pre-existing rows and add their own while the rest loads.
            let load = WriteLoad(
                postgres: harness.postgres, database: harness.database, writers: 2, transactionsEach: 2000,
                existing: Self.existing)
            try harness.execute("INSERT INTO lines VALUES ('during', 1), ('line 7', 7); DELETE FROM lines WHERE n = 8")
            try harness.capture()
            await load.stop()
            try harness.execute("UPDATE lines SET n = -n WHERE n = 9")
            try harness.capture()

            let after = try Self.chunks(harness)
            // Finished chunks were not read again: their row counts did not move.
            for chunk in doneBefore {
                #expect(after.first { $0.id == chunk.id }?.rows == chunk.rows, "chunk \(chunk.id) was loaded again")
            }
            #expect(after.filter { !$0.isDone }.isEmpty)
            // Read once, without holding every event parsed.
            var check = AccountsCheck(resumedLoad: true)
            var loaded = Set<Int>()
            var updated = Set<Int>()
            var snapshotIDs: [Int] = []
            var snapshotLSN: String?
            var lines: [Event] = []
            try harness.forEachEvent { event in
                check.add(event)
                if event.table == "lines" { lines.append(event) }
                if event.op == "u", event.table == "accounts", let id = intValue(event.before?["id"]) {
                    updated.insert(id)
                }
                guard event.op == "r", event.table == "accounts", let id = intValue(event.after?["id"]) else { return }
                loaded.insert(id)
                if snapshotLSN == nil { snapshotLSN = event.source["commit_lsn"] as? String }
                if event.source["commit_lsn"] as? String == snapshotLSN { snapshotIDs.append(id) }
            }
            try check.verify(harness: harness)
            // Every pre-existing row was loaded, by the snapshot or a watermark
            // window, or else was updated inside its window (the update, with
            // the whole row, stands in for it).
            #expect(loaded.union(updated).isSuperset(of: Self.existing))
            // Rows the snapshot stored before the stop are there once each.
            #expect(Set(snapshotIDs).count == snapshotIDs.count)

            // The table without a key was reloaded whole after a marker truncate.
            let rebuiltLines = rebuildWithoutKey(lines, table: "lines")
            let table = try harness.execute("SELECT line, n FROM lines").rows.map {
                "\($0[0] ?? "null")|\($0[1] ?? "null")"
            }
            #expect(rebuiltLines.sorted() == table.sorted())
            #expect(lines.contains { $0.op == "t" && $0.source["snapshot"] as? Bool == true })
        }

        /// kill -9 of `popsink-pg run` in the middle of the snapshot load, then
        /// again while the rest is loaded with watermarks: chunks finished
        /// before a kill are never loaded again, and the result is still exact.
        @Test(.timeLimit(.minutes(6)))
        func killedDuringTheLoadResumesExactly() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            let arguments = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
                "--pipeline", harness.pipelineID, "--snapshot-workers", "2", "--snapshot-chunk-pages", "32",
                "--snapshot-rows-per-group", "2000",
            ]
            let first = try PopsinkProcess.start(arguments)
            // Watched and killed from a thread of its own: a task waiting for
            // the cooperative pool, busy with the rest of the suite, saw the
            // stored events too late and the whole load had finished first.
            let killed = Atomic(false)
            let exited = Atomic(false)
            let (pid, storePath) = (first.process.processIdentifier, harness.storePath)
            let killer = Thread {
                let deadline = Date().addingTimeInterval(120)
                while !exited.load(ordering: .acquiring), Date() < deadline, Self.storedEvents(at: storePath) < 20_000 {
                    usleep(2_000)
                }
                if !exited.load(ordering: .acquiring) {
                    killed.store(true, ordering: .releasing)
                    kill(pid, SIGKILL)
                }
            }
            killer.start()
            while first.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            exited.store(true, ordering: .releasing)
            let wasKilled = killed.load(ordering: .acquiring)
            try #require(wasKilled, "the load finished before it could be killed: \(first.output().suffix(500))")
            let afterKill = try Self.chunks(harness)
            #expect(afterKill.contains { $0.isDone } && afterKill.contains { !$0.isDone })

            let load = WriteLoad(
                postgres: harness.postgres, database: harness.database, writers: 2, transactionsEach: 1000,
                existing: Self.existing)
            let second = try PopsinkProcess.start(arguments)
            try await Task.sleep(for: .milliseconds(Int.random(in: 500...1500)))
            second.kill()
            await load.waitUntilFinished()
            let final = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 240)
            #expect(final.status == 0, "\(final.output.suffix(2000))")

            let after = try Self.chunks(harness)
            #expect(after.filter { !$0.isDone }.isEmpty)
            for chunk in afterKill where chunk.isDone {
                #expect(after.first { $0.id == chunk.id }?.rows == chunk.rows, "chunk \(chunk.id) was loaded again")
            }
            var check = AccountsCheck(resumedLoad: true)
            var loaded = Set<Int>()
            var updated = Set<Int>()
            var lines: [Event] = []
            try harness.forEachEvent { event in
                check.add(event)
                if event.table == "lines" { lines.append(event) }
                if event.op == "r", event.table == "accounts", let id = intValue(event.after?["id"]) {
                    loaded.insert(id)
                }
                if event.op == "u", event.table == "accounts", let id = intValue(event.before?["id"]) {
                    updated.insert(id)
                }
            }
            try check.verify(harness: harness)
            #expect(loaded.union(updated).isSuperset(of: Self.existing))
            let table = try harness.execute("SELECT line, n FROM lines").rows.map {
                "\($0[0] ?? "null")|\($0[1] ?? "null")"
            }
            #expect(rebuildWithoutKey(lines, table: "lines").sorted() == table.sorted())
        }

        static func storedEvents(at storePath: String) -> Int64 {
            guard FileManager.default.fileExists(atPath: storePath) else { return 0 }
            guard let reader = try? EventStoreReader(path: storePath) else { return 0 }
            defer { reader.close() }
            return (try? reader.lastSequence()) ?? 0
        }

        static func chunks(_ harness: CaptureHarness) throws -> [SnapshotChunk] {
            let store = try EventStoreWriter(path: harness.storePath)
            defer { store.close() }
            return try store.snapshotChunks()
        }

        /// A table without a key rebuilt as a multiset of `line|n` rows.
        func rebuildWithoutKey(_ events: [Event], table: String) -> [String] {
            var rows: [String] = []
            func text(_ image: [String: Any]?) -> String {
                let line = image?["line"] as? String ?? "null"
                return "\(line)|\(intValue(image?["n"]).map(String.init) ?? "null")"
            }
            for event in events where event.table == table {
                switch event.op {
                case "c", "r": rows.append(text(event.after))
                case "u":
                    if let index = rows.firstIndex(of: text(event.before)) { rows.remove(at: index) }
                    rows.append(text(event.after))
                case "d":
                    if let index = rows.firstIndex(of: text(event.before)) { rows.remove(at: index) }
                case "t": rows.removeAll()
                default: break
                }
            }
            return rows
        }
    }
}
