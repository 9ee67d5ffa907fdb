// `popsink_sink_*` and `popsink_consumer_*`, written by hand like
// `CommitToDurableFamily`: their series come and go with each pipeline's
// sinks and consumers, and their counters are the forwarders' own totals,
// so each scrape writes what it is handed instead of keeping collectors
// in step. Format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

enum FollowerFamilies {
    private struct Family {
        let name: String
        let type: String
        let help: String
    }

    private static let delivered = Family(
        name: "popsink_sink_delivered_events_total", type: "counter",
        help: "Events the sink's target acknowledged since its forwarder started.")
    private static let deliveredSequence = Family(
        name: "popsink_sink_delivered_seq", type: "gauge",
        help: "Store sequence up to which every event is in the sink's target.")
    private static let lag = Family(
        name: "popsink_sink_lag_events", type: "gauge", help: "Events stored and not yet in the sink's target.")
    private static let errors = Family(
        name: "popsink_sink_errors_total", type: "counter",
        help: "Failed deliveries, connections or resumes of the sink, by kind.")
    private static let retries = Family(
        name: "popsink_sink_retries_total", type: "counter", help: "Reconnects of the sink after a failure.")
    private static let lost = Family(
        name: "popsink_sink_lost_events_total", type: "counter",
        help: "Events retention deleted before the sink delivered them.")
    private static let state = Family(
        name: "popsink_sink_state", type: "gauge", help: "1 for the sink's current state, 0 for every other state.")
    private static let consumerLag = Family(
        name: "popsink_consumer_lag_events", type: "gauge",
        help: "Events stored after the named consumer's acknowledged position.")
    private static let consumerLost = Family(
        name: "popsink_consumer_lost_events", type: "gauge",
        help: "1 when retention's hard cap deleted events the named consumer had not acknowledged.")

    static func emit(_ samples: [PipelineSample], into buffer: inout [UInt8]) {
        let sinks = samples.flatMap { sample in sample.sinks.map { (pipeline: sample.id, sink: $0) } }
        let consumers = samples.flatMap { sample in sample.consumers.map { (pipeline: sample.id, consumer: $0) } }
        func labels(_ pipeline: String, _ pairs: [(String, String)]) -> [(String, String)] {
            [("pipeline", pipeline)] + pairs
        }
        family(
            delivered, sinks.map { (labels($0.pipeline, [("sink", $0.sink.name)]), $0.sink.deliveredTotal) }, &buffer)
        family(
            deliveredSequence, sinks.map { (labels($0.pipeline, [("sink", $0.sink.name)]), $0.sink.deliveredSequence) },
            &buffer)
        family(lag, sinks.map { (labels($0.pipeline, [("sink", $0.sink.name)]), $0.sink.lag) }, &buffer)
        family(
            errors,
            sinks.flatMap { entry in
                entry.sink.errors.sorted { $0.key < $1.key }.map {
                    (labels(entry.pipeline, [("sink", entry.sink.name), ("kind", $0.key)]), $0.value)
                }
            }, &buffer)
        family(retries, sinks.map { (labels($0.pipeline, [("sink", $0.sink.name)]), $0.sink.retries) }, &buffer)
        family(lost, sinks.map { (labels($0.pipeline, [("sink", $0.sink.name)]), $0.sink.lostEvents) }, &buffer)
        family(
            state,
            sinks.flatMap { entry in
                SinkSample.states.map {
                    (
                        labels(entry.pipeline, [("sink", entry.sink.name), ("type", entry.sink.type), ("state", $0)]),
                        Int64(entry.sink.state == $0 ? 1 : 0)
                    )
                }
            }, &buffer)
        family(
            consumerLag, consumers.map { (labels($0.pipeline, [("consumer", $0.consumer.name)]), $0.consumer.lag) },
            &buffer)
        family(
            consumerLost,
            consumers.map { (labels($0.pipeline, [("consumer", $0.consumer.name)]), Int64($0.consumer.lost ? 1 : 0)) },
            &buffer)
    }

    /// HELP, TYPE and one line per series; nothing for a family without series.
    private static func family(_ family: Family, _ series: [([(String, String)], Int64)], _ buffer: inout [UInt8]) {
        guard !series.isEmpty else { return }
        buffer.append(contentsOf: "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.type)\n".utf8)
        for (labels, value) in series {
            buffer.append(contentsOf: "\(family.name){".utf8)
            for (index, (name, labelValue)) in labels.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                buffer.append(contentsOf: "\(name)=\"".utf8)
                buffer.appendEscapedLabelValue(labelValue)
                buffer.append(UInt8(ascii: "\""))
            }
            buffer.append(contentsOf: "} \(value)\n".utf8)
        }
    }
}
