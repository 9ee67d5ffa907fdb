// The real crash: `popsink-pg run --sink nats://…` under write load, killed
// with SIGKILL again and again (publishes in flight, positions unsaved),
// then a final run to the current position; the stream must hold the store,
// every event once, in store order.

import EventStore
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

extension SinkSuites {
    @Suite("run --sink under kill -9", .serialized)
    struct RunSinkCrashTests {
        static var binary: URL {
            URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
                .deletingLastPathComponent().appendingPathComponent("popsink-pg")
        }

        private func start(_ arguments: [String], log: String) throws -> Process {
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = arguments
            FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            handle.seekToEndOfFile()
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            return process
        }

        @Test(.timeLimit(.minutes(5)))
        func killNineOfRunNeitherSkipsNorRepeatsAnEventInTheStream() throws {
            let postgres = try TestPostgres.shared()
            let database = try postgres.createDatabase()
            let pipeline = "p\(database)"
            try postgres.execute(
                """
                CREATE TABLE accounts (id int PRIMARY KEY, n int NOT NULL);
                ALTER TABLE accounts REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE accounts;
                """, database: database)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runsink-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let server = try NATSServer()
            defer {
                _ = try? postgres.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'popsink_\(pipeline)' AND NOT active",
                    database: database)
                try? FileManager.default.removeItem(atPath: directory)
            }
            let log = directory + "/run.log"
            let arguments = [
                "run", postgres.connectionString(database: database), "--data-dir", directory, "--pipeline", pipeline,
                "--sink", "\(server.url)?stream=RUN",
            ]

            // Writers: small transactions of inserts and updates until stopped.
            let stop = Atomic<Bool>(false)
            let writer = Thread {
                guard let connection = try? postgres.connect(database: database) else { return }
                var id = 0
                while !stop.load(ordering: .relaxed) {
                    id += 1
                    _ = try? connection.query(
                        "BEGIN; INSERT INTO accounts VALUES (\(id), 0); UPDATE accounts SET n = n + 1 WHERE id = \(max(1, id / 2)); COMMIT")
                    usleep(2000)
                }
            }
            writer.start()
            defer { stop.store(true, ordering: .relaxed) }

            var kills = 0
            for _ in 0..<6 {
                let process = try start(arguments, log: log)
                Thread.sleep(forTimeInterval: Double.random(in: 0.4...1.5))
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    kills += 1
                }
                process.waitUntilExit()
            }
            stop.store(true, ordering: .relaxed)
            Thread.sleep(forTimeInterval: 0.1)
            #expect(kills >= 5, "popsink-pg exited early: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")

            let final = try start(arguments + ["--end-lsn", "current"], log: log)
            let deadline = Date(timeIntervalSinceNow: 120)
            while final.isRunning && Date() < deadline { usleep(50_000) }
            if final.isRunning { kill(final.processIdentifier, SIGKILL) }
            final.waitUntilExit()
            #expect(final.terminationStatus == 0, "final run: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")

            let reader = try EventStoreReader(path: "\(directory)/pipelines/\(pipeline)/events.sqlite")
            defer { reader.close() }
            var stored: [String] = []
            var after: Int64 = 0
            while true {
                let page = try reader.events(after: after, limit: 5000)
                guard let last = page.last else { break }
                stored += page.map(\.id)
                after = last.sequence
            }
            let streamed = try server.streamContents("RUN").map(\.id)
            #expect(stored.count > 200)
            #expect(streamed.count == stored.count)
            #expect(Set(streamed).count == streamed.count, "an event is in the stream twice")
            let mismatch = zip(streamed, stored).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(mismatch == nil, "the stream departs from the store at \(String(describing: mismatch))")
        }
    }
}
