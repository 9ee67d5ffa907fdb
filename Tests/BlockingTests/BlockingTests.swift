// `Blocking.run`: results and typed errors come back, a call blocked for long
// holds up no other, and idle threads are reused rather than one made per call.

import Blocking
import Foundation
import Testing

@Suite struct BlockingTests {
    struct Refused: Error, Equatable { let reason: String }

    @Test func resultsAndTypedErrorsComeBack() async throws {
        #expect(await Blocking.run { 6 * 7 } == 42)
        await #expect(throws: Refused(reason: "no")) {
            try await Blocking.run { () throws(Refused) -> Int in throw Refused(reason: "no") }
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aBlockedCallHoldsUpNoOther() async throws {
        let release = DispatchSemaphore(value: 0)
        let blocked = Task {
            await Blocking.run {
                release.wait()
                return "released"
            }
        }
        // Many quick calls finish while the first one still blocks its thread.
        let values = await withTaskGroup(of: Int.self) { group in
            for index in 0..<50 { group.addTask { await Blocking.run { index } } }
            return await group.reduce(0, +)
        }
        #expect(values == (0..<50).reduce(0, +))
        release.signal()
        #expect(await blocked.value == "released")
    }

    @Test func idleThreadsAreReused() async {
        var threads = Set<UInt>()
        for _ in 0..<20 {
            threads.insert(UInt(await Blocking.run { pthread_self() }))
            try? await Task.sleep(for: .milliseconds(2))
        }
        // One after the other: a thread is idle again before the next call comes.
        #expect(threads.count < 20)
    }
}
