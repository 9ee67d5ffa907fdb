// The process's own peak resident memory, for `run --verbose`.
//
// Not getrusage's ru_maxrss: on exec, Linux folds the *parent's* high-water
// mark into it (exec_mmap → setmax_mm_hiwater_rss), so a popsink-pg started by
// a 300 MiB test runner reported 300 MiB however little it used itself. That
// is why issue 5's million-row test read 281-319 MiB in full test runs and
// 50 MiB alone. VmHWM in /proc/self/status is the high-water mark of this
// process's own address space only.

import Foundation

enum PeakResidentMemory {
    /// Peak resident set size in bytes, or nil where /proc is not available.
    static func bytes() -> UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            // "VmHWM:     51234 kB"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = UInt64(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}
