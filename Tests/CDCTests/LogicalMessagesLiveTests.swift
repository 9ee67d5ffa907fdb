// The user's logical messages against a real Postgres: transactional ones as
// `m` events in their place inside their transaction (a streamed one
// included), non-transactional ones as events of their own at their LSN
// (even when the transaction that wrote them rolls back), only the prefixes
// asked for, and across kill -9 of `popsink-pg run` none lost or repeated.

import Foundation
import PipelineTestSupport
import PostgresTestSupport
import PostgresWire
import Testing

@testable import CDC

extension HeavyTests {
    @Suite struct LogicalMessagesLiveTests {
        typealias Streaming = StreamingTests

        /// Runs to the current position; with `confirmAtMost`, Postgres is
        /// told no more than that is stored, so the next run gets it all again.
        static func run(
            _ harness: CaptureHarness, prefixes: [String], streaming: Bool = false, confirmAtMost: LSN? = nil
        ) throws {
            var config = try streaming ? Streaming.streamingConfig(harness) : harness.config()
            config.messages = MessageFilter(prefixes: prefixes)
            if let confirmAtMost { config.confirmLimit = { _ in confirmAtMost } }
            #expect(PipelineWorker(config: config).run() == .reachedEnd)
        }

        static func message(_ event: Event) -> [String: Any]? { event.json["message"] as? [String: Any] }
        static func content(_ event: Event) -> String? { message(event)?["content"] as? String }

        @Test(.timeLimit(.minutes(3)))
        func transactionalAndNonTransactionalMessagesOfThePrefixesAskedFor() throws {
            let harness = try CaptureHarness(setup: CaptureHarness.singleTable)
            defer { harness.cleanUp() }
            try Self.run(harness, prefixes: ["app."])
            try harness.execute(
                """
                BEGIN;
                INSERT INTO t VALUES (1);
                SELECT pg_logical_emit_message(true, 'app.audit', 'tx-1');
                SELECT pg_logical_emit_message(true, 'other', 'not asked for');
                SELECT pg_logical_emit_message(true, 'popsink.ddl', '{"forged":true}');
                INSERT INTO t VALUES (2);
                COMMIT;
                """)
            try harness.execute("SELECT pg_logical_emit_message(false, 'app.ping', 'alone')")
            try harness.execute(
                """
                BEGIN;
                SELECT pg_logical_emit_message(false, 'app.ping', 'from a rolled back transaction');
                INSERT INTO t VALUES (3);
                ROLLBACK;
                """)
            try harness.execute("SELECT pg_logical_emit_message(true, 'app.bin', '\\xff00fe'::bytea)")
            let confirmed = try #require(try harness.confirmedFlush())
            try Self.run(harness, prefixes: ["app."], confirmAtMost: confirmed)
            #expect(try harness.confirmedFlush() == confirmed)
            // Postgres sends everything again on the way to a new change: what
            // is stored is skipped.
            try harness.execute("INSERT INTO t VALUES (9)")
            try Self.run(harness, prefixes: ["app."])

            let events = try harness.events()
            #expect(events.map(\.op) == ["c", "m", "c", "m", "m", "m", "c"])
            #expect(events.compactMap(Self.content) == ["tx-1", "alone", "from a rolled back transaction", "/wD+"])
            let transaction = Array(events.prefix(3))
            #expect(Set(transaction.map { $0.source["commit_lsn"] as? String }).count == 1, "one transaction")
            #expect(transaction.map { $0.id.split(separator: ":").last.map(String.init) } == ["0", "1", "2"])
            #expect(Self.message(events[1])?["transactional"] as? Bool == true)
            #expect(events[1].source["txid"] as? Int == transaction[0].source["txid"] as? Int)
            for alone in events[3...4] {
                #expect(Self.message(alone)?["transactional"] as? Bool == false)
                #expect(alone.source["commit_lsn"] as? String == alone.source["lsn"] as? String)
                #expect(alone.id == "\(alone.source["lsn"] as? String ?? ""):0")
                #expect(alone.source["txid"] is NSNull && alone.source["table"] is NSNull)
            }
            #expect(Self.message(events[5])?["encoding"] as? String == "base64")
        }

        @Test(.timeLimit(.minutes(3)))
        func withoutPrefixesNoMessageIsStored() throws {
            let harness = try CaptureHarness(setup: CaptureHarness.singleTable)
            defer { harness.cleanUp() }
            try harness.capture()
            try harness.execute(
                """
                BEGIN;
                INSERT INTO t VALUES (1);
                SELECT pg_logical_emit_message(true, 'app.audit', 'tx');
                COMMIT;
                SELECT pg_logical_emit_message(false, 'app.ping', 'alone');
                """)
            try harness.capture()
            #expect(try harness.events().map(\.op) == ["c"])
        }

        @Test(.timeLimit(.minutes(3)))
        func aMessageInsideAStreamedTransactionKeepsItsPlace() throws {
            let harness = try CaptureHarness(setup: Streaming.setup)
            defer { harness.cleanUp() }
            try Self.run(harness, prefixes: ["app."], streaming: true)
            try harness.execute(
                """
                BEGIN;
                INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 5000) g;
                SELECT pg_logical_emit_message(true, 'app.step', 'half way');
                SELECT pg_logical_emit_message(false, 'app.ping', 'while streaming');
                INSERT INTO accounts SELECT g, 1 FROM generate_series(5001, 10000) g;
                COMMIT;
                """)
            try Self.run(harness, prefixes: ["app."], streaming: true)
            #expect(try Streaming.streamedTransactions(harness) >= 1, "Postgres did not stream the transaction")
            let events = try harness.events()
            #expect(events.count == 10_002)
            // The non-transactional message is decoded at its LSN, before the
            // transaction around it commits.
            #expect(Self.content(events[0]) == "while streaming")
            #expect(events.dropFirst().prefix(5000).allSatisfy { $0.op == "c" })
            #expect(events[5001].op == "m" && Self.content(events[5001]) == "half way")
            #expect(events[5001].id.hasSuffix(":5000"))
            #expect(events.suffix(5000).allSatisfy { $0.op == "c" && intValue($0.after?["id"])! > 5000 })
        }

        @Test(.timeLimit(.minutes(5)))
        func killNineLosesAndRepeatsNoMessage() async throws {
            let harness = try await CaptureHarness(setup: CaptureHarness.singleTable)
            defer { harness.cleanUp() }
            let arguments = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
                "--pipeline", harness.pipelineID, "--message-prefix", "app.t", "--message-prefix", "app.n",
            ]
            let first = try PopsinkProcess.run(arguments + ["--end-lsn", "current"])
            #expect(first.status == 0, "first run failed: \(first.output)")
            var written: [String] = []
            for round in 0..<6 {
                let process = try PopsinkProcess.start(arguments)
                for index in 0..<30 {
                    let n = round * 30 + index
                    if n % 2 == 0 {
                        try harness.execute("SELECT pg_logical_emit_message(false, 'app.n', 'n-\(n)')")
                    } else {
                        try harness.execute(
                            "BEGIN; INSERT INTO t VALUES (\(n)); SELECT pg_logical_emit_message(true, 'app.t', 't-\(n)'); COMMIT"
                        )
                    }
                    written.append(n % 2 == 0 ? "n-\(n)" : "t-\(n)")
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...400)))
                if process.isRunning {
                    process.kill()
                } else {
                    Issue.record("popsink-pg exited early: \(process.output())")
                }
            }
            let final = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 120)
            #expect(final.status == 0, "final run failed: \(final.output)")

            let events = try harness.events()
            #expect(Set(events.map(\.id)).count == events.count, "no event stored twice")
            #expect(events.filter { $0.op == "m" }.compactMap(Self.content) == written, "every message once, in order")
            #expect(events.filter { $0.op == "c" }.count == written.count / 2)
        }
    }
}
