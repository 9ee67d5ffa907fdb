// Starting, stopping, restarting and deleting pipelines through the API while
// commands race each other, against a real Postgres: whatever the interleaving
// there is at most one worker per pipeline (the slot's `active_pid`, the
// store's writer lock), every start runs the record as stored now, and no
// event is lost or doubled.

import CDC
import ControlPlane
import Foundation
import Glibc
import PostgresTestSupport
import Testing

@Suite struct LifecycleTests {
    typealias Service = APIFlowTests.Service

    /// The pid of the walsender holding `slot`, nil when it is free or gone.
    static func activePID(_ postgres: TestPostgres, slot: String) throws -> String? {
        try postgres.execute("SELECT active_pid::text AS pid FROM pg_replication_slots WHERE slot_name = '\(slot)'")
            .value("pid")
    }

    /// Whether some writer holds the store's lock (`WriterLock`'s flock).
    static func writerLockHeld(_ storePath: String) -> Bool {
        let descriptor = open(storePath + ".lock", O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(descriptor, LOCK_UN)
        return false
    }

    /// Waits until no worker runs for the pipeline: the slot inactive and the
    /// writer lock free. A walsender leaves a moment after its client.
    static func expectNoWorker(
        _ postgres: TestPostgres, slot: String, storePath: String, _ context: String
    ) async throws {
        if try await eventually(
            within: 60, { try activePID(postgres, slot: slot) == nil && !writerLockHeld(storePath) })
        {
            return
        }
        Issue.record(
            "a worker still runs after \(context): slot pid \(try activePID(postgres, slot: slot) ?? "none"), lock held \(writerLockHeld(storePath))"
        )
    }

    static func state(_ service: Service, _ id: String) async throws -> String {
        (try await service.call("GET", "/v1/pipelines/\(id)/status").body as? [String: Any])?["state"] as? String ?? ""
    }

    static func waitForState(_ service: Service, _ id: String, _ wanted: String) async throws -> String {
        var state = ""
        _ = try await eventually {
            state = try await Self.state(service, id)
            return state == wanted
        }
        return state
    }

    @Test(.timeLimit(.minutes(5)))
    func racingCommandsLeaveAtMostOneWorkerAndLoseNothing() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT("id int PRIMARY KEY", replicaIdentityFull: false)
        let service = try Service()
        let id = "p\(database)"
        let slot = PipelineConfig.defaultSlot(pipelineID: id)!.rawValue
        let other = "q\(database)"
        let otherSlot = PipelineConfig.defaultSlot(pipelineID: other)!.rawValue
        defer {
            _ = try? postgres.execute("SELECT pg_drop_replication_slot('\(slot)')")
            _ = try? postgres.execute("SELECT pg_drop_replication_slot('\(otherSlot)')")
        }
        let storePath = DataDirectory(path: service.directory.path).eventStorePath(pipelineID: id)
        let sourceID = try await service.runningPipeline(id, on: postgres, database: database)
        #expect(try await Self.waitForState(service, id, "streaming") == "streaming")

        var inserted = 0
        func insert() throws {
            inserted += 1
            try postgres.execute("INSERT INTO t VALUES (\(inserted))", database: database)
        }
        func race(_ first: String, _ second: String) async throws {
            async let a = service.call("POST", "/v1/pipelines/\(id)/\(first)")
            async let b = service.call("POST", "/v1/pipelines/\(id)/\(second)")
            let (left, right) = try await (a, b)
            #expect(left.status == 200 && right.status == 200, "\(left.raw) \(right.raw)")
        }
        for round in 0..<20 {
            for (first, second) in [("start", "start"), ("start", "stop"), ("restart", "restart")] {
                try await race(first, second)
                try insert()
                #expect(try await service.call("POST", "/v1/pipelines/\(id)/stop").status == 200)
                try await Self.expectNoWorker(
                    postgres, slot: slot, storePath: storePath, "\(first)/\(second) round \(round)")
            }

            // A start racing a delete: the pipeline is gone afterwards, and so
            // is its slot, with no worker left behind.
            let put = try await service.call("PUT", "/v1/pipelines/\(other)", json: ["source_id": sourceID])
            #expect(put.status == 201, "\(put.raw)")
            async let start = service.call("POST", "/v1/pipelines/\(other)/start")
            async let delete = service.call("DELETE", "/v1/pipelines/\(other)?drop_slot=true")
            let (started, deleted) = try await (start, delete)
            #expect([200, 404].contains(started.status), "\(started.raw)")
            #expect(deleted.status == 204, "\(deleted.raw)")
            #expect(try await service.call("GET", "/v1/pipelines/\(other)").status == 404, "round \(round)")
            _ = try await eventually(within: 60) { try Self.activePID(postgres, slot: otherSlot) == nil }
            let left = try postgres.execute(
                "SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = '\(otherSlot)'"
            ).value("n")
            #expect(left == "0", "start/delete round \(round) left slot \(otherSlot) behind")
            if left != "0" { _ = try? postgres.execute("SELECT pg_drop_replication_slot('\(otherSlot)')") }
        }

        // Everything written while the commands raced is stored once, in order.
        #expect(try await service.call("POST", "/v1/pipelines/\(id)/start").status == 200)
        var ids: [Int] = []
        for _ in 0..<300 {
            let page = try await service.call("GET", "/v1/pipelines/\(id)/events?after=0&limit=10000")
            let events = (page.body as? [String: Any])?["events"] as? [[String: Any]] ?? []
            ids = events.compactMap { (($0["event"] as? [String: Any])?["after"] as? [String: Any])?["id"] as? Int }
            if ids.count >= inserted { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(ids == Array(1...inserted))
        await service.stop()
    }

    @Test(.timeLimit(.minutes(5)))
    func aFailedPipelineStartsWithItsRecordAsStoredNow() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT("id int PRIMARY KEY", replicaIdentityFull: false)
        let service = try Service()
        let id = "p\(database)"
        let slot = PipelineConfig.defaultSlot(pipelineID: id)!.rawValue
        defer { _ = try? postgres.execute("SELECT pg_drop_replication_slot('\(slot)')") }

        // A source pointing at a database that does not exist: the pipeline fails.
        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "test", "host": postgres.host, "port": postgres.port, "database": "\(database)_missing",
                "user": postgres.superuser, "sslmode": "disable",
            ])
        let sourceID = try #require((created.body as? [String: Any])?["id"] as? String, "\(created.raw)")
        #expect(
            try await service.call(
                "PUT", "/v1/pipelines/\(id)",
                json: [
                    "source_id": sourceID, "desired_state": "running", "publication": "missing",
                ]
            ).status == 201)
        #expect(try await Self.waitForState(service, id, "failed") == "failed")

        // The source is fixed: the next start must use it.
        let fixed = try await service.call(
            "PUT", "/v1/sources/\(sourceID)",
            json: [
                "name": "test", "host": postgres.host, "port": postgres.port, "database": database,
                "user": postgres.superuser, "sslmode": "disable",
            ])
        #expect(fixed.status == 200, "\(fixed.raw)")
        #expect(try await service.call("POST", "/v1/pipelines/\(id)/start").status == 200)
        // Now the publication is the stale setting: the pipeline fails on it.
        #expect(try await Self.waitForState(service, id, "failed") == "failed")
        let status = try await service.call("GET", "/v1/pipelines/\(id)/status")
        #expect(status.raw.contains("publication_missing"), "\(status.raw)")

        // A PUT that fixes the publication of a failed pipeline that should run starts it with the new one.
        let put = try await service.call(
            "PUT", "/v1/pipelines/\(id)",
            json: [
                "source_id": sourceID, "desired_state": "running", "publication": "popsink",
            ])
        #expect(put.status == 200, "\(put.raw)")
        #expect(try await Self.waitForState(service, id, "streaming") == "streaming")
        await service.stop()
    }

    @Test(.timeLimit(.minutes(5)))
    func aRecordThatCannotStartFailsAloneAtBoot() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT("id int PRIMARY KEY", replicaIdentityFull: false)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("boot-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataDirectory = DataDirectory(path: directory.path)
        let store = try SQLiteStateStore(path: directory.appendingPathComponent("state.sqlite").path)
        let now = Timestamps.now()
        let good = "p\(database)"
        defer {
            _ = try? postgres.execute(
                "SELECT pg_drop_replication_slot('\(PipelineConfig.defaultSlot(pipelineID: good)!)')")
        }
        try await store.save(
            SourceRecord(
                id: "src", host: postgres.host, port: postgres.port, database: database, user: postgres.superuser,
                sslmode: "disable", createdAt: now, updatedAt: now))
        // Written as an older version could leave them: a source gone, a slot name no server accepts.
        try await store.save(
            PipelineRecord(id: "a_orphan", sourceID: "gone", desiredState: .running, createdAt: now, updatedAt: now))
        try await store.save(
            PipelineRecord(
                id: "b_badslot", sourceID: "src", slotName: "Not A Slot", desiredState: .running, createdAt: now,
                updatedAt: now))
        try await store.save(
            PipelineRecord(id: good, sourceID: "src", desiredState: .running, createdAt: now, updatedAt: now))

        let registry = PipelineRegistry(store: store, dataDirectory: dataDirectory)
        await registry.resume()
        #expect(await eventually { registry.status(good).state == .streaming })
        let orphan = registry.status("a_orphan")
        #expect(orphan.state == .failed)
        #expect(orphan.lastError?.message.contains("gone") == true, "\(String(describing: orphan.lastError))")
        #expect(registry.status("b_badslot").state == .failed)
        #expect(registry.status("b_badslot").lastError?.code == .invalidConfiguration)
        await registry.shutdown()
    }
}
