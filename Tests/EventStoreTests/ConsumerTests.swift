// Named consumers' positions: written beside a running writer without its
// lock, forward only, checked against the store's range.

import EventStore
import Foundation
import PostgresWire
import Synchronization
import Testing

@Suite struct ConsumerTests {
    @Test func registerAcknowledgeListDelete() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try commitTransactions(writer, from: 0x1000, count: 20)
            let consumers = try EventStoreConsumers(path: path)

            let registered = try consumers.acknowledge("billing", through: 5)
            #expect(registered.ackedSequence == 5)
            #expect(registered.lostThrough == nil)
            #expect(try consumers.acknowledge("billing", through: 12).ackedSequence == 12)
            // A retried, older acknowledgement changes nothing.
            #expect(try consumers.acknowledge("billing", through: 7).ackedSequence == 12)
            try consumers.acknowledge("audit.v2", through: 20)
            #expect(try consumers.list().map(\.name) == ["audit.v2", "billing"])

            let beyond = #expect(throws: EventStoreError.self) { try consumers.acknowledge("billing", through: 21) }
            #expect(beyond?.kind == .cursorBeyondEnd)
            let badName = #expect(throws: EventStoreError.self) { try consumers.acknowledge("a/b", through: 1) }
            #expect(badName?.kind == .invalidArgument)

            // The writer goes on committing while consumers acknowledge.
            try commitTransactions(writer, from: 0x9000, count: 5)
            #expect(try consumers.acknowledge("billing", through: 25).ackedSequence == 25)
            #expect(try consumers.remove("billing"))
            #expect(try consumers.consumer("billing") == nil)
            #expect(try consumers.list().map(\.name) == ["audit.v2"])
        }
    }

    @Test func registeringBelowWhatIsRetainedIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try commitTransactions(writer, from: 0x1000, count: 20)
            try writer.deleteEvents(upTo: 10)
            let consumers = try EventStoreConsumers(path: path)
            let error = #expect(throws: EventStoreError.self) { try consumers.acknowledge("late", through: 3) }
            #expect(error?.kind == .cursorExpired)
            #expect(error?.firstAvailableAfter == 10)
            #expect(try consumers.acknowledge("late", through: 10).ackedSequence == 10)
        }
    }

    @Test func acknowledgementsComeThroughWhileGroupsCommit() async throws {
        try await withTemporaryDirectoryAsync { directory in
            let path = directory + "/events.db"
            let consumers = try EventStoreConsumers(path: path)
            let writerDone = Thread.detachNewThreadAndWait {
                let writer = try EventStoreWriter(path: path)
                for group in 0..<200 {
                    try commitTransactions(writer, from: 0x1000 + UInt64(group) * 0x10000, count: 50)
                }
                return writer.lastSequence
            }
            var acked: Int64 = 0
            let reader = try EventStoreReader(path: path)
            while true {
                let last = try reader.lastSequence()
                if last > acked { acked = try consumers.acknowledge("tail", through: last).ackedSequence }
                if try await writerDone.isFinished { break }
            }
            #expect(try await writerDone.value == 10_000)
            #expect(try consumers.acknowledge("tail", through: 10_000).ackedSequence == 10_000)
        }
    }
}

/// Runs `body` on a thread of its own (the writer blocks on fsync).
final class ThreadResult<T: Sendable>: Sendable {
    private let state = Mutex<Result<T, any Error>?>(nil)
    var isFinished: Bool { get async { state.withLock { $0 != nil } } }
    var value: T {
        get async throws {
            while true {
                if let result = state.withLock({ $0 }) { return try result.get() }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }
    func finish(_ result: Result<T, any Error>) { state.withLock { $0 = result } }
}

extension Thread {
    static func detachNewThreadAndWait<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> ThreadResult<T> {
        let result = ThreadResult<T>()
        Thread.detachNewThread { result.finish(Result { try body() }) }
        return result
    }
}
