// Scenario 12 of the fault suite: `fsync` fails with EIO under the store
// (an LD_PRELOAD shim, built here with the system C compiler, fails
// `fsync` and `fdatasync` while a trigger file exists). The pipeline must
// fail loudly, never confirm to Postgres what the failed sync covered, and a
// later run on a healthy disk must resume with nothing lost or repeated.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct FsyncFailureTests {
        static let shimSource = """
            #define _GNU_SOURCE
            #include <dlfcn.h>
            #include <errno.h>
            #include <stdlib.h>
            #include <unistd.h>
            static int failing(void) {
                const char *trigger = getenv("POPSINK_FSYNC_FAIL_FILE");
                return trigger != NULL && access(trigger, F_OK) == 0;
            }
            int fsync(int fd) {
                if (failing()) { errno = EIO; return -1; }
                int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
                return real(fd);
            }
            int fdatasync(int fd) {
                if (failing()) { errno = EIO; return -1; }
                int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
                return real(fd);
            }
            """

        @Test(.timeLimit(.minutes(5)))
        func aFailedFsyncFailsThePipelineAndConfirmsNothingItCovered() async throws {
            let harness = try await CaptureHarness(setup: OracleSchema.setup())
            defer { harness.cleanUp() }
            let shim = try Self.buildShim(in: harness.dataDirectory)
            let trigger = harness.dataDirectory.appendingPathComponent("fail-fsync").path
            let arguments = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
                "--pipeline", harness.pipelineID,
            ]
            let first = try PopsinkProcess.run(arguments + ["--end-lsn", "current"])
            #expect(first.status == 0, "first run failed: \(first.output)")

            let workload = OracleWorkload(postgres: harness.postgres, database: harness.database, writers: 2)
            let process = try PopsinkProcess.start(
                arguments, environment: ["LD_PRELOAD": shim, "POPSINK_FSYNC_FAIL_FILE": trigger])
            let stored = harness.storedSequence()
            try await waitUntil("the shimmed process stores") {
                guard process.isRunning else { throw TestPostgresError("exited early: \(process.output())") }
                return harness.storedSequence() > stored
            }
            FileManager.default.createFile(atPath: trigger, contents: nil)
            try await waitUntil("the process fails") { !process.isRunning }
            process.process.waitUntilExit()
            let output = process.output()
            print(
                "popsink-pg after a failed fsync (status \(process.process.terminationStatus)):\n\(output.suffix(600))")
            #expect(process.process.terminationStatus != 0)
            #expect(output.contains("[store]"), "the failure does not name the store")

            // Postgres was told nothing past what the store durably holds.
            let checkpoint = try #require(try EventStoreReader(path: harness.storePath).checkpoint())
            let confirmed = try #require(try harness.confirmedFlush())
            #expect(confirmed <= checkpoint.flushLSN, "slot confirmed \(confirmed), store holds \(checkpoint)")

            try FileManager.default.removeItem(atPath: trigger)
            try await workload.waitForCommits(20)
            await workload.stop()
            let final = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 240)
            #expect(final.status == 0, "the run after the failure failed: \(final.output)")
            try OracleCheck(ledger: workload.ledger, postgres: harness.postgres, database: harness.database)
                .verify(try harness.allEvents(), scenario: "fsync EIO, then a healthy restart")
        }

        /// Compiles the shim with the system C compiler (`cc`, else the Swift toolchain's `clang`); its path.
        static func buildShim(in directory: URL) throws -> String {
            let source = directory.appendingPathComponent("fsync-shim.c")
            let library = directory.appendingPathComponent("fsync-shim.so")
            try shimSource.write(to: source, atomically: true, encoding: .utf8)
            var statuses: [String] = []
            for compiler in ["cc", "clang"] {
                let build = Process()
                build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                build.arguments = [compiler, "-shared", "-fPIC", "-o", library.path, source.path, "-ldl"]
                build.standardOutput = FileHandle.nullDevice
                build.standardError = FileHandle.nullDevice
                try build.run()
                build.waitUntilExit()
                if build.terminationStatus == 0 { return library.path }
                statuses.append("\(compiler): status \(build.terminationStatus)")
            }
            throw TestPostgresError(
                "no C compiler could build the fsync shim (\(statuses.joined(separator: ", "))); install gcc or clang")
        }
    }
}
