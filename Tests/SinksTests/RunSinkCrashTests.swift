// The real crash: `popsink-pg run --sink …` under write load, killed with
// SIGKILL again and again (messages in flight, positions unsaved), then a
// final run to the current position; the target must hold the store, every
// event once, in store order (per partition for Kafka).

import EventStore
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

@testable import Sinks

extension SinkSuites {
    @Suite("run --sink under kill -9", .serialized)
    struct RunSinkCrashTests {
        static var binary: URL {
            URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
                .deletingLastPathComponent().appendingPathComponent("popsink-pg")
        }

        @Test(.timeLimit(.minutes(5)))
        func killNineOfRunNeitherSkipsNorRepeatsAnEventInTheStream() throws {
            let server = try NATSServer()
            let stored = try killNineRuns(sink: { _ in "\(server.url)?stream=RUN" })
            let streamed = try server.streamContents("RUN").map(\.id)
            #expect(stored.count > 200)
            #expect(streamed.count == stored.count)
            #expect(Set(streamed).count == streamed.count, "an event is in the stream twice")
            let mismatch = zip(streamed, stored.map(\.id.description)).enumerated().first {
                $0.element.0 != $0.element.1
            }
            #expect(mismatch == nil, "the stream departs from the store at \(String(describing: mismatch))")
        }

        @Test(.timeLimit(.minutes(5)))
        func killNineOfRunNeitherSkipsNorRepeatsAnEventInAnyPartition() throws {
            let cluster = try KafkaMockCluster()
            let partitions: Int32 = 3
            var topic = ""
            let stored = try killNineRuns(sink: { pipeline in
                topic = "popsink.\(pipeline).public.accounts"
                cluster.createTopic(topic, partitions: partitions)
                return "kafka://\(cluster.bootstrapServers)?name=kafka"
            })
            #expect(stored.count > 200)
            var expected: [Int32: [String]] = [:]
            for event in stored {
                expected[KafkaPartition.murmur2(event.orderingKey, partitions: partitions), default: []].append(
                    event.id.description)
            }
            let contents = try cluster.contents(of: topic, partitions: partitions)
            for partition in 0..<partitions {
                let held = contents[partition] ?? []
                #expect(Set(held).count == held.count, "partition \(partition) holds an event twice")
                #expect(held.count == expected[partition]?.count, "partition \(partition)")
                #expect(held.elementsEqual(expected[partition] ?? []), "partition \(partition) departs from the store")
            }
        }

        /// Runs `popsink-pg run --sink` under write load, kills it six times,
        /// runs it to the current position; returns the store's events.
        private func killNineRuns(sink: (_ pipeline: String) throws -> String) throws -> [SinkEvent] {
            let postgres = try TestPostgres.shared()
            let database = try postgres.createDatabase()
            let pipeline = "p\(database)"
            try postgres.execute(
                """
                CREATE TABLE accounts (id int PRIMARY KEY, n int NOT NULL);
                ALTER TABLE accounts REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE accounts;
                """, database: database)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "runsink-\(UUID().uuidString)"
            ).path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer {
                _ = try? postgres.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'popsink_\(pipeline)' AND NOT active",
                    database: database)
                try? FileManager.default.removeItem(atPath: directory)
            }
            let log = directory + "/run.log"
            let arguments = [
                "run", postgres.connectionString(database: database), "--data-dir", directory, "--pipeline", pipeline,
                "--sink", try sink(pipeline),
            ]

            // A writer: small transactions of an insert and an update until stopped.
            let stop = Atomic<Bool>(false)
            let writer = Thread {
                guard let connection = try? postgres.connect(database: database) else { return }
                var id = 0
                while !stop.load(ordering: .relaxed) {
                    id += 1
                    _ = try? connection.query(
                        "BEGIN; INSERT INTO accounts VALUES (\(id), 0); UPDATE accounts SET n = n + 1 WHERE id = \(max(1, id / 2)); COMMIT"
                    )
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
            #expect(
                final.terminationStatus == 0, "final run: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")

            let reader = try EventStoreReader(path: "\(directory)/pipelines/\(pipeline)/events.sqlite")
            defer { reader.close() }
            var stored: [SinkEvent] = []
            var after: Int64 = 0
            while true {
                let page = try reader.events(after: after, limit: 5000)
                guard let last = page.last else { return stored }
                stored += try page.map { try SinkEvent($0) }
                after = last.sequence
            }
        }

        private func start(_ arguments: [String], log: String) throws -> Process {
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = arguments
            if !FileManager.default.fileExists(atPath: log) {
                FileManager.default.createFile(atPath: log, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            handle.seekToEndOfFile()
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            return process
        }
    }
}
