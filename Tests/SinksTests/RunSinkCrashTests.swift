// The real crash, per sink and per phase (`SinkCrashRun`): the target must
// then hold the store, every event once, in store order (per partition for
// Kafka). And a run whose sink can never work stops and says why.

import Foundation
import PostgresTestSupport
import Testing

@testable import Sinks

extension SinkSuites {
    @Suite("run --sink under kill -9", .serialized)
    struct RunSinkCrashTests {
        static let phases: [CrashPhase] = [.stream, .bigTransaction, .backfill]

        @Test(.timeLimit(.minutes(6)), arguments: phases)
        func killNineOfRunNeitherSkipsNorRepeatsAnEventInTheStream(during phase: CrashPhase) throws {
            let server = try NATSServer()
            let outcome = try SinkCrashRun(phase: phase).run(sink: { _, _ in "\(server.url)?stream=RUN" })
            try expectPhase(outcome, phase)
            let stored = outcome.stored
            let streamed = try server.streamContents("RUN").map(\.id)
            #expect(streamed.count == stored.count)
            #expect(Set(streamed).count == streamed.count, "an event is in the stream twice")
            let mismatch = zip(streamed, stored.map(\.id.description)).enumerated().first {
                $0.element.0 != $0.element.1
            }
            #expect(mismatch == nil, "the stream departs from the store at \(String(describing: mismatch))")
        }

        @Test(.timeLimit(.minutes(6)), arguments: phases)
        func killNineOfRunNeitherSkipsNorRepeatsAnEventInAnyPartition(during phase: CrashPhase) throws {
            let cluster = try KafkaMockCluster()
            let partitions: Int32 = 3
            var topics: [String: String] = [:]
            let outcome = try SinkCrashRun(phase: phase).run(sink: { pipeline, tables in
                for table in tables {
                    topics[table] = "popsink.\(pipeline).public.\(table)"
                    cluster.createTopic(topics[table]!, partitions: partitions)
                }
                return "kafka://\(cluster.bootstrapServers)?name=kafka"
            })
            try expectPhase(outcome, phase)
            for (table, topic) in topics.sorted(by: { $0.key < $1.key }) {
                var expected: [Int32: [String]] = [:]
                for event in outcome.stored where event.table == table {
                    expected[KafkaPartition.murmur2(event.orderingKey, partitions: partitions), default: []].append(
                        event.id.description)
                }
                let contents = try cluster.contents(of: topic, partitions: partitions)
                for partition in 0..<partitions {
                    let held = contents[partition] ?? []
                    let want = expected[partition] ?? []
                    #expect(Set(held).count == held.count, "\(topic)[\(partition)] holds an event twice")
                    #expect(held.count == want.count, "\(topic)[\(partition)]")
                    #expect(held.elementsEqual(want), "\(topic)[\(partition)] departs from the store")
                }
            }
        }

        /// The kills landed where the phase says, and the store holds what the phase made.
        private func expectPhase(_ outcome: SinkCrashOutcome, _ phase: CrashPhase) throws {
            #expect(outcome.kills >= 5, "popsink-pg exited early: \(outcome.log)")
            #expect(outcome.stored.count > 200)
            switch phase {
            case .stream:
                break
            case .bigTransaction:
                #expect(outcome.inPhase > 0, "Postgres streamed no transaction before its commit")
                let largest = Dictionary(grouping: outcome.stored, by: \.id.commitLSN).values.map(\.count).max() ?? 0
                print(
                    "kill -9 during big transactions: \(outcome.kills) kills, \(outcome.inPhase) streamed by Postgres, \(outcome.stored.count) events, the largest transaction \(largest)"
                )
                #expect(largest >= SinkCrashRun.bigRows, "no big transaction was stored: the largest has \(largest)")
            case .backfill:
                #expect(outcome.inPhase >= 1, "no kill landed while the backfill was pending")
                let loaded = Set(outcome.stored.filter { $0.table == "late" && $0.op == "r" }.compactMap(\.key))
                print(
                    "kill -9 during a backfill: \(outcome.kills) kills, \(outcome.inPhase) while it was pending, \(outcome.stored.count) events, \(loaded.count) rows of late"
                )
                #expect(loaded.count == SinkCrashRun.lateRows, "\(loaded.count) rows of late were loaded")
            }
        }

        @Test(.timeLimit(.minutes(5)))
        func aRunWhoseServerHasNoJetStreamStopsWithTheReasonAndTheRemedy() throws {
            let server = try NATSServer(jetStream: false)
            let postgres = try TestPostgres.shared()
            let database = try postgres.createDatabase()
            let pipeline = "p\(database)"
            try postgres.execute(
                """
                CREATE TABLE accounts (id int PRIMARY KEY, n int NOT NULL);
                ALTER TABLE accounts REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE accounts;
                INSERT INTO accounts VALUES (1, 0);
                """, database: database)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runsink-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer {
                _ = try? postgres.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'popsink_\(pipeline)' AND NOT active",
                    database: database)
                try? FileManager.default.removeItem(atPath: directory)
            }
            let log = directory + "/run.log"
            // No --end-lsn: without the stop, this run would go on for ever.
            let process = try SinkCrashRun.start(
                [
                    "run", postgres.connectionString(database: database), "--data-dir", directory, "--pipeline",
                    pipeline, "--sink", "\(server.url)?stream=RUN&name=js",
                ], log: log)
            let deadline = Date(timeIntervalSinceNow: 60)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            let stopped = !process.isRunning
            if !stopped { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(stopped, "run went on with a sink that cannot work: \(output)")
            #expect(process.terminationStatus == 1, "\(output)")
            #expect(output.contains("sink js stopped: refused: The account has no JetStream"), "\(output)")
            #expect(output.contains(JetStreamTarget.jetStreamRemedy), "\(output)")
        }
    }
}
