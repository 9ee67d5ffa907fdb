// `popsink_sink_*` and `popsink_consumer_*`, written by hand like
// `CommitToDurableFamily`: their series come and go with each pipeline's
// sinks and consumers, and their counters are the forwarders' own totals,
// so each scrape writes what it is handed instead of keeping collectors
// in step. Format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

enum FollowerFamilies {
    private typealias Series = (labels: [(String, String)], value: Int64)

    static func emit(_ samples: [PipelineSample], into buffer: inout [UInt8]) {
        let sinks = samples.flatMap { sample in sample.sinks.map { (pipeline: sample.id, sink: $0) } }
        let consumers = samples.flatMap { sample in sample.consumers.map { (pipeline: sample.id, consumer: $0) } }
        /// One series per sink, or per sink and each of `extra`'s label sets.
        func perSink(_ extra: (SinkSample) -> [([(String, String)], Int64)]) -> [Series] {
            sinks.flatMap { entry in
                extra(entry.sink).map { ([("pipeline", entry.pipeline), ("sink", entry.sink.name)] + $0.0, $0.1) }
            }
        }
        func perSink(_ value: @escaping (SinkSample) -> Int64) -> [Series] { perSink { [([], value($0))] } }
        func perConsumer(_ value: (ConsumerSample) -> Int64) -> [Series] {
            consumers.map { ([("pipeline", $0.pipeline), ("consumer", $0.consumer.name)], value($0.consumer)) }
        }

        family(.sinkDelivered, "counter", perSink(\.deliveredTotal), &buffer)
        family(.sinkDeliveredSequence, "gauge", perSink(\.deliveredSequence), &buffer)
        family(.sinkLag, "gauge", perSink(\.lag), &buffer)
        family(
            .sinkErrors, "counter",
            perSink { sink in sink.errors.sorted { $0.key < $1.key }.map { ([("kind", $0.key)], $0.value) } },
            &buffer)
        family(.sinkRetries, "counter", perSink(\.retries), &buffer)
        family(.sinkLost, "counter", perSink(\.lostEvents), &buffer)
        family(
            .sinkState, "gauge",
            perSink { sink in
                SinkSample.states.map { ([("type", sink.type), ("state", $0)], Int64(sink.state == $0 ? 1 : 0)) }
            }, &buffer)
        family(.consumerLag, "gauge", perConsumer(\.lag), &buffer)
        family(.consumerLost, "gauge", perConsumer { Int64($0.lost ? 1 : 0) }, &buffer)
    }

    /// HELP, TYPE and one line per series; nothing for a family without series.
    private static func family(_ name: SeriesName, _ type: String, _ series: [Series], _ buffer: inout [UInt8]) {
        guard !series.isEmpty else { return }
        buffer.append(contentsOf: "# HELP \(name.name) \(name.help)\n# TYPE \(name.name) \(type)\n".utf8)
        for (labels, value) in series {
            buffer.append(contentsOf: "\(name.name){".utf8)
            for (index, (label, labelValue)) in labels.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                buffer.append(contentsOf: "\(label)=\"".utf8)
                buffer.appendEscapedLabelValue(labelValue)
                buffer.append(UInt8(ascii: "\""))
            }
            buffer.append(contentsOf: "} \(value)\n".utf8)
        }
    }
}
