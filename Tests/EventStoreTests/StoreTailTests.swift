// The follower of a store: woken by the writer's commits rather than a timer,
// draining what is left once the commits close, ending when its waiter goes.

import EventStore
import Foundation
import Synchronization
import Testing

@Suite struct StoreTailTests {
    @Test(.timeLimit(.minutes(5)))
    func aWaitingTailWakesOnTheNextCommitAndNotBefore() async throws {
        try await withTemporaryDirectoryAsync { directory in
            let path = directory + "/events.db"
            let commits = DurableSequence()
            // The store does not exist yet: the tail waits for the first commit.
            let tail = StoreTail(path: path, after: 0, commits: commits, batch: 2)
            let nothing = try await tail.next(until: .now + .milliseconds(50))
            #expect(nothing.isEmpty)

            let committer = Task {
                try await Task.sleep(for: .milliseconds(50))
                let writer = try EventStoreWriter(path: path)
                try commitTransactions(writer, from: 0x1000, count: 3)
                writer.close()
                commits.advance(to: 3)
            }
            #expect(try await tail.next().map(\.sequence) == [1, 2])
            try await committer.value
            #expect(try await tail.next().map(\.sequence) == [3])
            #expect(tail.cursor == 3)

            // Closed: what is stored is still returned, then nothing, at once.
            let writer = try EventStoreWriter(path: path)
            try commitTransactions(writer, from: 0x2000, count: 1)
            commits.close()
            #expect(try await tail.next().map(\.sequence) == [4])
            #expect(try await tail.next().isEmpty)
            tail.close()
            writer.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aWaitEndsWhenItsWaiterIsAbandonedOrCancelled() async throws {
        try await withTemporaryDirectoryAsync { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try commitTransactions(writer, from: 0x1000, count: 1)
            let commits = DurableSequence()
            let gone = DurableSequence()
            let abandoned = Task {
                let tail = StoreTail(path: path, after: 1, commits: commits, batch: 10)
                return try await tail.next(
                    until: .now + .seconds(60),
                    abandon: {
                        _ = await gone.wait(beyond: 0, until: nil)
                    })
            }
            try await Task.sleep(for: .milliseconds(50))
            gone.close()
            #expect(try await abandoned.value.isEmpty)

            let cancelled = Task {
                let tail = StoreTail(path: path, after: 1, commits: commits, batch: 10)
                return try await tail.next()
            }
            try await Task.sleep(for: .milliseconds(50))
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            writer.close()
        }
    }

    @Test func aCommitBeforeTheWaitIsNotMissed() async {
        let commits = DurableSequence()
        commits.advance(to: 5)
        commits.advance(to: 4)
        #expect(commits.current == 5)
        // Already past: returns at once rather than waiting for a later commit.
        #expect(await commits.wait(beyond: 4, until: nil) == .committed)
        #expect(await commits.wait(beyond: 5, until: .now + .milliseconds(20)) == .deadline)
    }
}
