// `popsink_sink_*` and `popsink_consumer_*` in the exposition: each family
// typed and helped once, one series per sink and consumer, label values
// escaped, and nothing for a pipeline without followers.

import Testing

@testable import Telemetry

@Suite struct FollowerFamiliesTests {
    static let now: Int64 = 1_764_150_000_000_000

    @Test func sinksAndConsumersAreSeriesOfTheirPipeline() throws {
        var sample = Fixtures.streaming(nowMicroseconds: Self.now)
        sample.sinks = [
            SinkSample(
                name: "hook", type: "webhook", state: "retrying", deliveredTotal: 40, deliveredSequence: 60, lag: 21,
                retries: 3, errors: ["rejected": 2, "timeout": 1], lostEvents: 0)
        ]
        sample.consumers = [ConsumerSample(name: "bill\"ing", lag: 7, lost: true)]
        let text = try PrometheusText(PopsinkMetrics().render(pipelines: [sample], nowMicroseconds: Self.now))
        let hook = ["pipeline": "orders", "sink": "hook"]
        #expect(text["popsink_sink_delivered_events_total"]?.type == "counter")
        #expect(text["popsink_sink_lag_events"]?.type == "gauge")
        #expect(text.value("popsink_sink_delivered_events_total", hook) == 40)
        #expect(text.value("popsink_sink_delivered_seq", hook) == 60)
        #expect(text.value("popsink_sink_lag_events", hook) == 21)
        #expect(text.value("popsink_sink_retries_total", hook) == 3)
        #expect(text.value("popsink_sink_lost_events_total", hook) == 0)
        #expect(text.value("popsink_sink_errors_total", hook.merging(["kind": "rejected"]) { a, _ in a }) == 2)
        #expect(text.value("popsink_sink_errors_total", hook.merging(["kind": "timeout"]) { a, _ in a }) == 1)
        let state = hook.merging(["type": "webhook"]) { a, _ in a }
        #expect(text.value("popsink_sink_state", state.merging(["state": "retrying"]) { a, _ in a }) == 1)
        #expect(text.value("popsink_sink_state", state.merging(["state": "running"]) { a, _ in a }) == 0)
        let billing = ["pipeline": "orders", "consumer": "bill\"ing"]
        #expect(text.value("popsink_consumer_lag_events", billing) == 7)
        #expect(text.value("popsink_consumer_lost_events", billing) == 1)
    }

    @Test func aPipelineWithoutFollowersWritesNoFollowerFamily() throws {
        let text = try PrometheusText(
            PopsinkMetrics().render(
                pipelines: [Fixtures.streaming(nowMicroseconds: Self.now)], nowMicroseconds: Self.now))
        #expect(text.order.allSatisfy { !$0.hasPrefix("popsink_sink_") && !$0.hasPrefix("popsink_consumer_") })
    }
}
