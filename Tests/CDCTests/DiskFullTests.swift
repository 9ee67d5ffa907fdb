// A full disk under a running pipeline: it must stop confirming, report
// `store_full` and retry, then resume with nothing lost once space is freed.
// The store lives on a small tmpfs the test mounts (the tests run as root),
// filled up by a file the test then deletes.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresWire
import Testing

extension HeavyTests {
    @Suite struct DiskFullTests {
        static let setup = """
            CREATE TABLE t (id int PRIMARY KEY, pad text NOT NULL);
            ALTER TABLE t REPLICA IDENTITY FULL;
            CREATE PUBLICATION popsink FOR TABLE t;
            """

        @Test(.timeLimit(.minutes(3)))
        func aFullDiskIsRetriedAndNothingIsLost() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            let volume = try SmallVolume(megabytes: 32)
            defer { volume.unmount() }
            var config = try harness.config(endPosition: nil)
            config.storePath = volume.path + "/store/events.db"
            config.retry = RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .milliseconds(500))
            let pipeline = Pipeline(config: config)
            await pipeline.start()
            defer { Task { await pipeline.stop() } }
            try await waitFor { pipeline.status.state == .streaming }

            // Leave about 256 KiB free, then write until the store cannot commit.
            let filler = volume.path + "/filler"
            try volume.fill(leaving: 256 << 10, with: filler)
            var inserted = 0
            let pad = String(repeating: "x", count: 2_000)
            let deadline = Date().addingTimeInterval(60)
            while !(pipeline.status.state == .retrying && pipeline.status.lastError?.code == .storeFull) {
                guard Date() < deadline else {
                    Issue.record(
                        "no store_full within 60 s; status \(pipeline.status.state), \(String(describing: pipeline.status.lastError))"
                    )
                    return
                }
                if pipeline.status.state == .failed {
                    Issue.record(
                        "the pipeline failed instead of retrying: \(String(describing: pipeline.status.lastError))")
                    return
                }
                try harness.execute(
                    "INSERT INTO t SELECT g, '\(pad)' FROM generate_series(\(inserted + 1), \(inserted + 20)) g")
                inserted += 20
                try await Task.sleep(for: .milliseconds(20))
            }
            let error = try #require(pipeline.status.lastError)
            #expect(error.isRetryable)
            #expect(error.remediation?.contains("Free space") == true)
            print("store_full reported: \(error)")

            // While full, nothing beyond the store's checkpoint is confirmed.
            try harness.execute(
                "INSERT INTO t SELECT g, '\(pad)' FROM generate_series(\(inserted + 1), \(inserted + 50)) g")
            inserted += 50
            try await Task.sleep(for: .seconds(1))
            let storedFlush = try #require(try EventStoreReader(path: config.storePath).checkpoint()).flushLSN
            let confirmed = try #require(try harness.confirmedFlush())
            #expect(confirmed <= storedFlush)
            #expect(pipeline.status.state == .retrying)

            // Space comes back: the pipeline resumes by itself and stores everything.
            try FileManager.default.removeItem(atPath: filler)
            let reader = try EventStoreReader(path: config.storePath)
            try await waitFor { try reader.lastSequence() >= Int64(inserted) }
            #expect(await pipeline.stop() == .stopped)

            let events = try storedEvents(config.storePath)
            let ids = events.compactMap { intValue($0.after?["id"]) }
            #expect(ids == Array(1...inserted), "stored \(ids.count) rows of \(inserted), \(Set(ids).count) distinct")
            #expect(Set(events.map(\.id)).count == events.count)
        }

        func storedEvents(_ path: String) throws -> [Event] {
            let reader = try EventStoreReader(path: path)
            defer { reader.close() }
            var all: [Event] = []
            var cursor: Int64 = 0
            while true {
                let page = try reader.events(after: cursor, limit: 10_000)
                guard let last = page.last else { return all }
                all += try page.map { try Event(stored: $0) }
                cursor = last.sequence
            }
        }
    }
}

/// A size-limited tmpfs mounted on a fresh temporary directory.
struct SmallVolume {
    let path: String

    init(megabytes: Int) throws {
        path = NSTemporaryDirectory() + "popsink-small-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", path]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw VolumeError(
                description:
                    "mount -t tmpfs failed (status \(mount.terminationStatus)): this test needs root, or CAP_SYS_ADMIN, to make a small file system"
            )
        }
    }

    /// Writes a file that leaves about `bytes` free on the volume.
    func fill(leaving bytes: Int, with file: String) throws {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw VolumeError(description: "statvfs \(path): errno \(errno)") }
        let free = Int(info.f_bavail) * Int(info.f_frsize)
        let size = max(0, free - bytes)
        let chunk = [UInt8](repeating: 0x55, count: 1 << 20)
        guard
            let handle = FileHandle(forWritingAtPath: file)
                ?? {
                    FileManager.default.createFile(atPath: file, contents: nil)
                        ? FileHandle(forWritingAtPath: file) : nil
                }()
        else { throw VolumeError(description: "cannot create \(file)") }
        defer { try? handle.close() }
        var written = 0
        while written < size {
            let count = min(chunk.count, size - written)
            do {
                try handle.write(contentsOf: chunk[..<count])
            } catch let error as CocoaError where error.code == .fileWriteOutOfSpace {
                // The pipeline writing beside the filler took the rest first:
                // the volume is full, which is what the caller wants.
                return
            }
            written += count
        }
    }

    func unmount() {
        let umount = Process()
        umount.executableURL = URL(fileURLWithPath: "/bin/umount")
        umount.arguments = ["-l", path]
        try? umount.run()
        umount.waitUntilExit()
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct VolumeError: Error, CustomStringConvertible {
    let description: String
}
