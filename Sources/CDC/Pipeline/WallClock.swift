// Wall-clock time for event timestamps and status updates, read with
// clock_gettime (a vDSO call, cheap enough per event).

#if canImport(Glibc)
import Glibc
#endif

enum WallClock {
    static func unixMicroseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000
    }
}
