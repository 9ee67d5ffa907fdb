// When the pipeline thread runs a retention step: called after every group
// commit, it does nothing most of the time (a clock read), a step every few
// seconds, and steps close together only while a backlog is being worked off,
// so deleting never takes more than a small share of the writer's time.

import PostgresWire

extension RetentionRunner {
    /// How often the policy is checked when nothing was due last time.
    public static let checkInterval: Int64 = 5_000_000
    /// The least time between two steps while a backlog is worked off.
    public static let backlogInterval: Int64 = 50_000

    /// Runs a step when one is due and returns it; nil when none was due. A
    /// failed step (a full disk, say) is kept in `lastError` and retried at
    /// the next check: retention failing must not stop the capture.
    @discardableResult
    public func stepIfDue(nowMicros: Int64 = WallClock.unixMicroseconds()) -> RetentionStep? {
        guard nowMicros >= nextDueMicros, !writer.isGroupOpen else { return nil }
        do {
            let step = try step(nowMicros: nowMicros)
            lastError = nil
            nextDueMicros = nowMicros + (step.moreDue ? Self.backlogInterval : Self.checkInterval)
            return step
        } catch {
            lastError = error
            nextDueMicros = nowMicros + Self.checkInterval
            return nil
        }
    }
}
