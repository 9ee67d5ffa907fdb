// Wall-clock time in Unix microseconds, read with clock_gettime (a vDSO
// call, cheap enough per event). One definition for the store's group
// timestamps and the pipeline's event and status times.

#if canImport(Glibc)
    import Glibc
#endif

public enum WallClock {
    /// Microseconds since the Unix epoch.
    public static func unixMicroseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000
    }
}
