// The receive-inactivity rule of a replication session, without sockets.

import Testing

@testable import CDC

@Suite struct SilenceWatchTests {
    let start = ContinuousClock.now

    @Test func aQuietStreamIsPingedBeforeItIsGivenUp() {
        var watch = SilenceWatch(timeout: .seconds(10), now: start)
        #expect(watch.check(now: start + .seconds(4)) == .quiet)
        #expect(watch.check(now: start + .seconds(5)) == .ping)
        #expect(watch.check(now: start + .seconds(6)) == .quiet)
        #expect(watch.check(now: start + .seconds(10)) == .dead(silence: .seconds(10)))
    }

    @Test func anAnswerToThePingKeepsTheConnection() {
        var watch = SilenceWatch(timeout: .seconds(10), now: start)
        #expect(watch.check(now: start + .seconds(5)) == .ping)
        watch.heard(at: start + .seconds(6))
        #expect(watch.check(now: start + .seconds(10)) == .quiet)
        #expect(watch.check(now: start + .seconds(11)) == .ping)
        #expect(watch.check(now: start + .seconds(15)) == .quiet)
        #expect(watch.check(now: start + .seconds(16)) == .dead(silence: .seconds(10)))
    }

    @Test func aLateCheckStillPingsFirst() {
        // The thread was busy for a minute (a long replay): silence measured
        // across work of our own must not kill a healthy connection.
        var watch = SilenceWatch(timeout: .seconds(10), now: start)
        #expect(watch.check(now: start + .seconds(60)) == .ping)
        #expect(watch.check(now: start + .seconds(64)) == .quiet)
        #expect(watch.check(now: start + .seconds(65)) == .dead(silence: .seconds(65)))
    }
}
