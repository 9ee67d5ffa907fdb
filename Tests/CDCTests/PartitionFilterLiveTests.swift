// A filter naming a partitioned table's root, against a real Postgres, with
// a pipeline that keeps running: without publish_via_partition_root the
// root's name selects its partitions (loaded once, streamed, a partition
// attached later included, with its existing rows backfilled); through the
// root the events are the root's. Detaching a partition while streaming
// stops its capture with an `s` event marked `capture: stopped`, after every
// change committed before the detach and before none committed after.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct PartitionFilterLiveTests {
        static let rootOnly = TableFilter(includeTables: ["public.m"])

        /// A pipeline capturing by `rootOnly`, streaming: the root `m` (two
        /// partitions, 40 rows) and `other` are published.
        static func started(viaRoot: Bool) async throws -> (CaptureHarness, Pipeline) {
            let harness = try await CaptureHarness(
                setup: SchemaHardCasesTests.partitionedTable + """
                    CREATE TABLE other (id int PRIMARY KEY);
                    ALTER TABLE other REPLICA IDENTITY FULL;
                    INSERT INTO other VALUES (1);
                    CREATE PUBLICATION popsink FOR TABLE m, other WITH (publish_via_partition_root = \(viaRoot));
                    """)
            do {
                let pipeline = Pipeline(config: try harness.config(endPosition: nil, filter: Self.rootOnly))
                await pipeline.start()
                let streaming = await eventually { pipeline.status.state == .streaming }
                try #require(streaming, "the pipeline did not start streaming: \(pipeline.status)")
                return (harness, pipeline)
            } catch {
                harness.cleanUp()
                throw error
            }
        }

        /// New rows of the root and of `other`, then a partition made,
        /// attached and written to.
        static func attachingAPartition(withRowBeforeAttach: Bool) -> String {
            """
            INSERT INTO m VALUES (100, 'eu', 'new'), (101, 'us', 'new');
            INSERT INTO other VALUES (2);
            CREATE TABLE m_ap (LIKE m INCLUDING ALL);
            ALTER TABLE m_ap REPLICA IDENTITY FULL;
            \(withRowBeforeAttach ? "INSERT INTO m_ap VALUES (50, 'ap', 'before attach');" : "")
            ALTER TABLE m ATTACH PARTITION m_ap FOR VALUES IN ('ap');
            INSERT INTO m VALUES (102, 'ap', 'after attach');
            """
        }

        static func ids(_ events: [Event], table: String, op: String) -> [Int] {
            events.filter { $0.table == table && $0.op == op }.compactMap {
                intValue(($0.op == "d" ? $0.before : $0.after)?["id"])
            }
        }

        @Test(.timeLimit(.minutes(4)))
        func theRootsNameSelectsItsPartitionsOneAttachedLaterIncluded() async throws {
            let (harness, pipeline) = try await Self.started(viaRoot: false)
            defer { harness.cleanUp() }
            try harness.execute(Self.attachingAPartition(withRowBeforeAttach: true))
            // The partition is captured from its first change; its marker then
            // starts a consumer's copy over and backfills its rows.
            var copy = TableCopy(table: "m_ap")
            let arrived = try await eventually {
                copy = TableCopy(table: "m_ap")
                for event in try harness.allEvents() { copy.apply(event) }
                return copy.starts == 1 && copy.rows.count == 2
            }
            await pipeline.stop()
            #expect(arrived, "the attached partition was not started with its rows")
            try copy.expectEquals(harness, "SELECT id, v FROM m_ap", columns: ["v"])
            #expect(copy.broken.isEmpty, "\(copy.broken)")

            let events = try harness.allEvents()
            #expect(Set(events.map(\.table)) == ["m_eu", "m_us", "m_ap"], "the filter left `other` out")
            let loaded = events.filter { $0.op == "r" && $0.table != "m_ap" }.compactMap { intValue($0.after?["id"]) }
            #expect(loaded.sorted() == Array(1...40), "each row loaded once")
            #expect(
                Self.ids(events, table: "m_eu", op: "c") == [100] && Self.ids(events, table: "m_us", op: "c") == [101])
            #expect(Self.ids(events, table: "m_ap", op: "c") == [102])
            // Each partition's events name the root they are part of.
            let roots = Set(
                events.map { event -> String in
                    let root = event.source["partition_root"] as? [String: Any]
                    return "\(root?["schema"] ?? "-").\(root?["table"] ?? "-")"
                })
            #expect(roots == ["public.m"], "\(roots)")
            #expect(Set(events.map(\.id)).count == events.count)
        }

        @Test(.timeLimit(.minutes(4)))
        func throughTheRootTheEventsAreTheRoots() async throws {
            let (harness, pipeline) = try await Self.started(viaRoot: true)
            defer { harness.cleanUp() }
            try harness.execute(Self.attachingAPartition(withRowBeforeAttach: false))
            let arrived = try await eventually {
                Self.ids(try harness.allEvents(), table: "m", op: "c") == [100, 101, 102]
            }
            await pipeline.stop()
            #expect(arrived)
            let events = try harness.allEvents()
            #expect(Set(events.map(\.table)) == ["m"])
            #expect(events.allSatisfy { $0.source["partition_root"] == nil }, "the root's events name no root")
            #expect(Self.ids(events, table: "m", op: "r").sorted() == Array(1...40))
        }

        @Test(.timeLimit(.minutes(4)))
        func aPartitionDetachedWhileStreamingStopsBeingCapturedAfterItsLastChange() async throws {
            let (harness, pipeline) = try await Self.started(viaRoot: false)
            defer { harness.cleanUp() }
            try harness.execute(
                """
                INSERT INTO m VALUES (100, 'us', 'before detach');
                UPDATE m SET v = 'changed before detach' WHERE id = 1;
                ALTER TABLE m DETACH PARTITION m_us;
                INSERT INTO m_us VALUES (101, 'us', 'after detach');
                INSERT INTO m VALUES (102, 'eu', 'after detach');
                """)
            let stopped = try await eventually {
                let events = try harness.allEvents()
                return events.contains { $0.table == "m_us" && $0.json["capture"] as? String == "stopped" }
                    && Self.ids(events, table: "m_eu", op: "c") == [102]
            }
            // A change of the detached table well after its marker.
            try harness.execute("INSERT INTO m_us VALUES (103, 'us', 'later')")
            try harness.execute("INSERT INTO m VALUES (104, 'eu', 'later')")
            let later = try await eventually {
                Self.ids(try harness.allEvents(), table: "m_eu", op: "c") == [102, 104]
            }
            await pipeline.stop()
            #expect(stopped && later, "no capture: stopped for m_us")

            let events = try harness.allEvents()
            let us = events.filter { $0.table == "m_us" }
            #expect(Self.ids(us, table: "m_us", op: "c") == [100], "the change before the detach, none after")
            #expect(Self.ids(us, table: "m_us", op: "u") == [1])
            #expect(us.last?.op == "s" && us.last?.json["capture"] as? String == "stopped", "nothing after the stop")
            #expect(us.filter { $0.json["capture"] as? String == "stopped" }.count == 1)
            #expect(Set(events.map(\.id)).count == events.count)
        }
    }
}
