// Failures a user can meet: a missing store, an unwritable location, a file
// that is not a store, a second writer. Each must say which file and why.

import EventStore
import Foundation
import PostgresWire
import Testing

@Suite struct ErrorTests {
    @Test func aReaderOnAMissingFileSaysSo() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/nope/events.db"
            let error = #expect(throws: EventStoreError.self) { try EventStoreReader(path: path) }
            #expect(error?.kind == .notFound)
            #expect(error?.description.contains(path) == true)
            #expect(error?.description.contains("no event store file") == true)
            // And the reader did not create anything.
            #expect(!FileManager.default.fileExists(atPath: directory + "/nope"))
        }
    }

    @Test func aWriterUnderARegularFileNamesThePathAndCause() throws {
        try withTemporaryDirectory { directory in
            let file = directory + "/plain-file"
            #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
            let path = file + "/pipeline/events.db"
            let error = #expect(throws: EventStoreError.self) { try EventStoreWriter(path: path) }
            #expect(error?.kind == .notFound)
            #expect(error?.description.contains(path) == true)
            #expect(error?.description.contains("Not a directory") == true)
        }
    }

    #if os(Linux)
        /// /sys refuses new files even to root, so this holds whoever runs the tests.
        @Test func aWriterInAnUnwritableLocationNamesThePathAndCause() throws {
            let path = "/sys/popsink-eventstore-test/events.db"
            let error = #expect(throws: EventStoreError.self) { try EventStoreWriter(path: path) }
            #expect(error.map { [.permissionDenied, .readOnly].contains($0.kind) } == true)
            #expect(error?.description.contains(path) == true)
            #expect(error?.systemErrno != 0)
        }
    #endif

    @Test func aSecondWriterIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let first = try EventStoreWriter(path: path)
            let error = #expect(throws: EventStoreError.self) { try EventStoreWriter(path: path) }
            #expect(error?.kind == .writerAlreadyOpen)
            #expect(error?.description.contains(path) == true)
            // Readers are welcome meanwhile, and the store is free again once the first closes.
            _ = try EventStoreReader(path: path)
            first.close()
            let second = try EventStoreWriter(path: path)
            second.close()
        }
    }

    @Test func aFileThatIsNotAStoreIsLeftAlone() throws {
        try withTemporaryDirectory { directory in
            let text = directory + "/notes.txt"
            let original = Data(String(repeating: "not a database\n", count: 400).utf8)
            #expect(FileManager.default.createFile(atPath: text, contents: original))
            let writerError = #expect(throws: EventStoreError.self) { try EventStoreWriter(path: text) }
            #expect(writerError?.kind == .corrupt)
            #expect(writerError?.description.contains(text) == true)
            let readerError = #expect(throws: EventStoreError.self) { try EventStoreReader(path: text) }
            #expect(readerError?.kind == .corrupt)
            #expect(FileManager.default.contents(atPath: text) == original)

            // An empty file (say, created by hand) is not a store a reader can use.
            let empty = directory + "/empty.db"
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            let emptyError = #expect(throws: EventStoreError.self) { try EventStoreReader(path: empty) }
            #expect(emptyError?.kind == .notAnEventStore)

            // Nor is a directory, and trying leaves nothing beside it.
            let directoryError = #expect(throws: EventStoreError.self) { try EventStoreWriter(path: directory) }
            #expect(directoryError?.kind == .notAnEventStore)
            #expect(!FileManager.default.fileExists(atPath: directory + ".lock"))
        }
    }

    @Test func errorsCarryACodeAndRemediation() throws {
        let error = EventStoreError(
            kind: .diskFull, operation: "commit group", path: "/data/p1.db",
            message: "database or disk is full", code: 13, extendedCode: 13)
        #expect(error.isRetryable)
        #expect(error.kind.rawValue == "disk_full")
        #expect(
            error.description.hasPrefix(
                "event store /data/p1.db: commit group failed: database or disk is full (SQLITE_FULL)."))
        #expect(error.description.contains("Free space"))
    }

    @Test func aStoreFromANewerVersionIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            do {
                let writer = try EventStoreWriter(path: path)
                try commitTransactions(writer, from: 0x1000, count: 1)
                writer.close()  // the last connection folds the WAL into the file
            }
            // PRAGMA user_version lives at bytes 60-63 of the database header, big-endian.
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: 60)
            try handle.write(contentsOf: Data([0, 0, 0, 99]))
            try handle.close()

            let writerError = #expect(throws: EventStoreError.self) { try EventStoreWriter(path: path) }
            #expect(writerError?.kind == .newerSchema)
            #expect(writerError?.description.contains("schema version 99") == true)
            let readerError = #expect(throws: EventStoreError.self) { try EventStoreReader(path: path) }
            #expect(readerError?.kind == .newerSchema)
        }
    }
}
