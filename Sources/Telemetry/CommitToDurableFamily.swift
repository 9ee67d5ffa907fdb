// `popsink_pipeline_commit_to_durable_seconds`, written by hand. The pipeline
// already keeps this histogram (`LatencyHistogram`, per-bucket counts in
// milliseconds) and the status carries it; swift-prometheus histograms can
// only `record` single observations and do not accept precomputed buckets,
// so replaying counts into one would be lossy (no per-observation values) and
// costly. This file writes the family in the same text format instead.
// Format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

import CDC

enum CommitToDurableFamily {
    /// Bucket upper bounds in seconds, from `LatencyHistogram`'s milliseconds.
    static let bounds: [Double] = LatencyHistogram.bucketBounds.map { $0 / 1000 }

    /// Appends the family (HELP, TYPE, then per pipeline the cumulative
    /// `_bucket` series ending in `+Inf`, `_sum` and `_count`); nothing when
    /// there are no pipelines, as the registry does for an empty family.
    static func emit(_ pipelines: [(id: String, histogram: LatencyHistogram)], into buffer: inout [UInt8]) {
        guard !pipelines.isEmpty else { return }
        let name = SeriesName.commitToDurable.name
        buffer.append(contentsOf: "# HELP \(name) \(SeriesName.commitToDurable.help)\n".utf8)
        buffer.append(contentsOf: "# TYPE \(name) histogram\n".utf8)
        for (id, histogram) in pipelines {
            var label: [UInt8] = Array(#"pipeline=""#.utf8)
            label.appendEscapedLabelValue(id)
            label.append(UInt8(ascii: "\""))

            var cumulative: UInt64 = 0
            for (index, count) in histogram.counts.enumerated() {
                cumulative += count
                let bound = index < bounds.count ? "\(bounds[index])" : "+Inf"
                buffer.append(contentsOf: "\(name)_bucket{".utf8)
                buffer.append(contentsOf: label)
                buffer.append(contentsOf: #",le="\#(bound)"} \#(cumulative)"#.utf8)
                buffer.append(UInt8(ascii: "\n"))
            }
            for (suffix, value) in [("_sum", "\(histogram.sumMilliseconds / 1000)"), ("_count", "\(histogram.count)")] {
                buffer.append(contentsOf: "\(name)\(suffix){".utf8)
                buffer.append(contentsOf: label)
                buffer.append(contentsOf: "} \(value)\n".utf8)
            }
        }
    }
}

extension [UInt8] {
    /// A label value with backslash, double quote and line feed escaped, as
    /// the text format requires.
    mutating func appendEscapedLabelValue(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\""): append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\n"): append(contentsOf: #"\n"#.utf8)
            default: append(byte)
            }
        }
    }
}
