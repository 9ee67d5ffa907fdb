// The snapshot's progress on standard error while `run` works through
// it: a bar redrawn in place when standard error is a terminal, a plain line
// every few seconds otherwise (logs, CI, pipes), and one line when it is done.

import CDC
import Foundation

final class SnapshotProgressDisplay: Sendable {
    private let task: Task<Void, Never>
    private let pipeline: CDC.Pipeline
    private let terminal = isatty(STDERR_FILENO) == 1

    init(pipeline: CDC.Pipeline) {
        self.pipeline = pipeline
        let terminal = terminal
        task = Task {
            var lastLine = ContinuousClock.now - .seconds(60)
            var started: ContinuousClock.Instant?
            while !Task.isCancelled {
                let tables = pipeline.status.snapshot
                if !tables.isEmpty {
                    let summary = LoadProgressSummary(tables)
                    let now = ContinuousClock.now
                    if started == nil { started = now }
                    let seconds = (now - started!).seconds
                    if summary.isDone { break }
                    if terminal {
                        Self.write("\r\u{1B}[K" + summary.bar(width: 30, seconds: seconds))
                    } else if now - lastLine >= .seconds(5) {
                        Self.write(summary.plainLine(seconds: seconds) + "\n")
                        lastLine = now
                    }
                }
                try? await Task.sleep(for: .milliseconds(terminal ? 200 : 500))
            }
        }
    }

    /// Stops redrawing and says where the load got to, if there was one in this run.
    func finish() async {
        task.cancel()
        await task.value
        let tables = pipeline.status.snapshot
        guard !tables.isEmpty else { return }
        let summary = LoadProgressSummary(tables)
        let clear = terminal ? "\r\u{1B}[K" : ""
        Self.write(clear + (summary.isDone ? summary.doneLine() : summary.plainLine(seconds: 0)) + "\n")
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// The numbers behind the display, summed over tables.
struct LoadProgressSummary {
    let rows: Int64
    let estimatedRows: Int64
    let chunksDone: Int
    let chunksTotal: Int
    let tablesDone: Int
    let tables: Int

    init(_ tables: [TableSnapshotProgress]) {
        rows = tables.reduce(0) { $0 + $1.rowsDone }
        // A table's estimate may be stale; never show fewer rows to go than are done.
        estimatedRows = tables.reduce(0) { $0 + max($1.estimatedRows, $1.rowsDone) }
        chunksDone = tables.reduce(0) { $0 + $1.chunksDone }
        chunksTotal = tables.reduce(0) { $0 + $1.chunksTotal }
        tablesDone = tables.filter { $0.state == .done }.count
        self.tables = tables.count
    }

    var isDone: Bool { tablesDone == tables }

    /// Share done, by chunks (exact) when rows cannot be estimated.
    var fraction: Double {
        if estimatedRows > 0 { return min(1, Double(rows) / Double(estimatedRows)) }
        return chunksTotal > 0 ? Double(chunksDone) / Double(chunksTotal) : 0
    }

    func bar(width: Int, seconds: Double) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "snapshot [\(bar)] \(percent) \(counts) \(rate(seconds))"
    }

    func plainLine(seconds: Double) -> String {
        "snapshot: \(percent) \(counts) \(rate(seconds))"
    }

    func doneLine() -> String {
        "snapshot done: \(rows) rows of \(tables) table\(tables == 1 ? "" : "s") in \(chunksTotal) chunk\(chunksTotal == 1 ? "" : "s")"
    }

    private var percent: String { String(format: "%3.0f%%", fraction * 100) }

    private var counts: String {
        "\(rows)/~\(estimatedRows) rows, \(chunksDone)/\(chunksTotal) chunks, \(tablesDone)/\(tables) tables"
    }

    private func rate(_ seconds: Double) -> String {
        seconds > 0.5 ? String(format: "%.0f rows/s", Double(rows) / seconds) : ""
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
