// A Kafka sink over librdkafka (Debian's librdkafka-dev): a topic per table,
// the partition chosen from the row key with the Java client's murmur2 (so
// consumers of any client agree where a key lives), an idempotent producer
// with acks=all, and delivery reports awaited before the position moves.
//
// Partitions fail independently, so the resume reads each one back: the
// last message of a partition names, in its `popsink-event-id` header, the
// last event that partition holds; an event at or below it is not sent again.
// The sink's own position is the floor below which nothing is re-checked.

import CRdKafka
import EventStore

final class KafkaTarget: PipelinedSinkTarget {
    private struct TopicPartition: Hashable {
        let topic: String
        let partition: Int32
    }

    private let settings: KafkaSettings
    private let pipelineID: String
    private let deliveries = KafkaDeliveries()
    private var producer: OpaquePointer?
    private var consumer: OpaquePointer?
    private var topics: [String: (handle: OpaquePointer, partitions: Int32)] = [:]
    /// Topic names by table: expanding the template per event is costly.
    private var topicNames: [String: String] = [:]
    /// Per partition, the highest store sequence it holds (0: none), read back once per connection.
    private var held: [TopicPartition: Int64] = [:]
    /// Each batch in flight (pipelined sends): its last store sequence and the last sequence it put in each partition.
    private var inFlight: [(store: Int64, sent: [TopicPartition: Int64])] = []
    private var store: EventStoreReader?

    init(settings: KafkaSettings, pipelineID: String) {
        self.settings = settings
        self.pipelineID = pipelineID
    }

    deinit { close(abrupt: true) }

    private var timeoutMilliseconds: Int32 { Int32(settings.deliveryTimeoutSeconds * 1000) }

    func open() throws(SinkError) {
        producer = try Self.handle(RD_KAFKA_PRODUCER, Self.producerProperties(settings), deliveries: deliveries)

        var consumerProperties = ["bootstrap.servers": settings.bootstrapServers]
        consumerProperties.merge(settings.properties) { $1 }
        consumerProperties["group.id"] = "popsink-readback-\(pipelineID)"
        consumerProperties["enable.auto.commit"] = "false"
        consumerProperties["enable.auto.offset.store"] = "false"
        consumer = try Self.handle(RD_KAFKA_CONSUMER, consumerProperties, deliveries: nil)
    }

    /// The producer's configuration: the user's properties over our defaults,
    /// then the ones delivery exactly once depends on.
    static func producerProperties(_ settings: KafkaSettings) -> [String: String] {
        var properties = [
            "bootstrap.servers": settings.bootstrapServers,
            "message.timeout.ms": String(Int32(settings.deliveryTimeoutSeconds * 1000)),
            "linger.ms": "5",
        ]
        properties.merge(settings.properties) { $1 }
        properties["enable.idempotence"] = "true"
        properties["acks"] = "all"
        return properties
    }

    /// A client with `properties`; the opaque of its callbacks is `deliveries`
    /// (a producer's delivery reports) or else `errors` (the sink check's).
    static func handle(
        _ type: rd_kafka_type_t, _ properties: [String: String], deliveries: KafkaDeliveries?,
        errors: KafkaClientErrors? = nil
    ) throws(SinkError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            guard rd_kafka_conf_set(conf, name, value, &errorText, errorText.count) == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                throw SinkError(.configuration, "Kafka property \(name): \(Self.text(errorText))", retryable: false)
            }
        }
        if let deliveries {
            rd_kafka_conf_set_dr_msg_cb(conf, KafkaDeliveries.callback)
            rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(deliveries).toOpaque())
        } else if let errors {
            rd_kafka_conf_set_error_cb(conf, KafkaClientErrors.callback)
            rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(errors).toOpaque())
        }
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw SinkError(.configuration, "creating a Kafka client: \(Self.text(errorText))", retryable: false)
        }
        return handle
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func resume(saved: SinkPosition, store: EventStoreReader) throws(SinkError) -> Int64 {
        self.store = store
        held = [:]
        inFlight = []
        deliveries.reset()
        return saved.sequence
    }

    func deliver(_ events: [SinkEvent]) throws(SinkError) {
        guard let producer else { throw SinkError(.connection, "the Kafka producer is closed") }
        deliveries.reset()
        let (sent, produced) = try produceAll(events, producer: producer)
        let flushed = rd_kafka_flush(producer, timeoutMilliseconds)
        let tally = deliveries.tally.withLock { $0 }
        if let failure = tally.failures.first {
            throw SinkError(
                .rejected, "Kafka did not take \(tally.failures.count) of \(produced) messages, first: \(failure)")
        }
        guard flushed == RD_KAFKA_RESP_ERR_NO_ERROR, tally.delivered == produced else {
            throw SinkError(
                .timeout,
                "\(tally.delivered) of \(produced) messages delivered within \(settings.deliveryTimeoutSeconds) s: \(String(cString: rd_kafka_err2str(flushed)))"
            )
        }
        held.merge(sent) { $1 }
    }

    /// Produces every event the partition does not hold yet; returns the last
    /// sequence put in each partition and how many messages were produced.
    private func produceAll(_ events: [SinkEvent], producer: OpaquePointer) throws(SinkError) -> (
        [TopicPartition: Int64], Int
    ) {
        var sent: [TopicPartition: Int64] = [:]
        var produced = 0
        let batch = events.last?.sequence ?? 0
        for event in events {
            let table = event.qualifiedTable
            let name =
                topicNames[table]
                ?? {
                    let expanded = settings.topic(pipeline: pipelineID, event: event)
                    topicNames[table] = expanded
                    return expanded
                }()
            let topic = try topicHandle(name)
            let partition = KafkaPartition.murmur2(event.orderingKey, partitions: topic.partitions)
            let place = TopicPartition(topic: name, partition: partition)
            if event.sequence <= (try heldSequence(place, topic: topic.handle)) { continue }
            deliveries.produced(batch: batch)
            try produce(event, batch: batch, topic: topic.handle, partition: partition, producer: producer)
            sent[place] = event.sequence
            produced += 1
        }
        return (sent, produced)
    }

    func send(_ events: [SinkEvent]) throws(SinkError) {
        guard let producer else { throw SinkError(.connection, "the Kafka producer is closed") }
        guard let last = events.last else { return }
        let (sent, _) = try produceAll(events, producer: producer)
        inFlight.append((last.sequence, sent))
    }

    func waitAcknowledged(through sequence: Int64) throws(SinkError) {
        guard let producer else { throw SinkError(.connection, "the Kafka producer is closed") }
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeoutMilliseconds))
        while true {
            let (failures, settled, left) = deliveries.tally.withLock {
                ($0.failures, $0.settled(through: sequence), $0.pending.values.reduce(0, +))
            }
            if let failure = failures.first {
                throw SinkError(.rejected, "Kafka did not take \(failures.count) messages, first: \(failure)")
            }
            if settled { break }
            guard ContinuousClock.now < deadline else {
                throw SinkError(
                    .timeout, "\(left) messages not delivered within \(settings.deliveryTimeoutSeconds) s")
            }
            // Serves delivery reports on this thread (the callback above).
            rd_kafka_poll(producer, 10)
        }
        for batch in inFlight where batch.store <= sequence { held.merge(batch.sent) { $1 } }
        inFlight.removeAll { $0.store <= sequence }
    }

    private func produce(
        _ event: SinkEvent, batch: Int64, topic: OpaquePointer, partition: Int32, producer: OpaquePointer
    ) throws(SinkError) {
        let headers = rd_kafka_headers_new(4)
        func add(_ name: String, _ value: String) {
            _ = value.withCString { rd_kafka_header_add(headers, name, -1, $0, -1) }
        }
        add("popsink-event-id", event.id.description)
        add("popsink-op", event.op)
        add("popsink-table", event.qualifiedTable)
        if let version = event.schemaVersion { add("popsink-schema-version", String(version)) }

        while true {
            let error: OpaquePointer? = event.body.withUnsafeBytes { body in
                (event.key ?? []).withUnsafeBytes { key in
                    var values = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 5)
                    values[0].vtype = RD_KAFKA_VTYPE_RKT
                    values[0].u.rkt = topic
                    values[1].vtype = RD_KAFKA_VTYPE_PARTITION
                    values[1].u.i32 = partition
                    values[2].vtype = RD_KAFKA_VTYPE_VALUE
                    values[2].u.mem.ptr = UnsafeMutableRawPointer(mutating: body.baseAddress)
                    values[2].u.mem.size = body.count
                    values[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    values[3].u.i = RD_KAFKA_MSG_F_COPY
                    values[4].vtype = RD_KAFKA_VTYPE_HEADERS
                    values[4].u.headers = headers
                    // The delivery report names the message's batch.
                    var opaque = rd_kafka_vu_t()
                    opaque.vtype = RD_KAFKA_VTYPE_OPAQUE
                    opaque.u.ptr = UnsafeMutableRawPointer(bitPattern: Int(batch))
                    values.append(opaque)
                    if event.key != nil {
                        var keyValue = rd_kafka_vu_t()
                        keyValue.vtype = RD_KAFKA_VTYPE_KEY
                        keyValue.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                        keyValue.u.mem.size = key.count
                        values.append(keyValue)
                    }
                    return rd_kafka_produceva(producer, values, values.count)
                }
            }
            guard let error else { return }  // the message now owns the headers
            let code = rd_kafka_error_code(error)
            let text = String(cString: rd_kafka_error_string(error))
            rd_kafka_error_destroy(error)
            if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_poll(producer, 50)
                continue
            }
            rd_kafka_headers_destroy(headers)
            throw SinkError(.rejected, "producing event \(event.id): \(text)")
        }
    }

    private func topicHandle(_ name: String) throws(SinkError) -> (handle: OpaquePointer, partitions: Int32) {
        if let known = topics[name] { return known }
        guard let producer, let handle = rd_kafka_topic_new(producer, name, nil) else {
            throw SinkError(.connection, "the Kafka producer is closed")
        }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(producer, 0, handle, &metadata, timeoutMilliseconds)
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata, metadata.pointee.topic_cnt == 1,
            metadata.pointee.topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR, metadata.pointee.topics[0].partition_cnt > 0
        else {
            let reason = error != RD_KAFKA_RESP_ERR_NO_ERROR ? error : (metadata?.pointee.topics[0].err ?? error)
            rd_kafka_topic_destroy(handle)
            throw SinkError(
                .connection,
                "the topic \(name) is not available: \(String(cString: rd_kafka_err2str(reason))); create it or allow auto-creation"
            )
        }
        let entry = (handle: handle, partitions: metadata.pointee.topics[0].partition_cnt)
        topics[name] = entry
        return entry
    }

    /// The highest store sequence the partition holds, read back from its last message.
    private func heldSequence(_ place: TopicPartition, topic: OpaquePointer) throws(SinkError) -> Int64 {
        if let known = held[place] { return known }
        guard let consumer, let store else { throw SinkError(.connection, "the Kafka consumer is closed") }
        var low: Int64 = 0
        var high: Int64 = 0
        let error = rd_kafka_query_watermark_offsets(
            consumer, place.topic, place.partition, &low, &high, timeoutMilliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw SinkError(
                .connection,
                "reading the offsets of \(place.topic)[\(place.partition)]: \(String(cString: rd_kafka_err2str(error)))"
            )
        }
        var sequence: Int64 = 0
        if high > low {
            let id = try lastEventID(place, offset: high - 1, consumer: consumer)
            guard let found = try StoreLocator.delivered(upTo: id, in: store) else {
                throw SinkError(
                    .diverged,
                    "\(place.topic)[\(place.partition)] ends with event \(id), which this pipeline's store does not hold: give the sink new topics to forward from the store again",
                    retryable: false)
            }
            sequence = found
        }
        held[place] = sequence
        return sequence
    }

    private func lastEventID(_ place: TopicPartition, offset: Int64, consumer: OpaquePointer) throws(SinkError)
        -> EventID
    {
        guard let handle = rd_kafka_topic_new(consumer, place.topic, nil) else {
            throw SinkError(.connection, "opening \(place.topic) for reading back")
        }
        defer { rd_kafka_topic_destroy(handle) }
        guard rd_kafka_consume_start(handle, place.partition, offset) == 0 else {
            throw SinkError(
                .connection,
                "reading back \(place.topic)[\(place.partition)] at \(offset): \(String(cString: rd_kafka_err2str(rd_kafka_last_error())))"
            )
        }
        defer { rd_kafka_consume_stop(handle, place.partition) }
        let deadline = ContinuousClock.now + .seconds(settings.deliveryTimeoutSeconds)
        while ContinuousClock.now < deadline {
            guard let message = rd_kafka_consume(handle, place.partition, 1000) else { continue }
            defer { rd_kafka_message_destroy(message) }
            if message.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
            guard message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw SinkError(
                    .connection,
                    "reading back \(place.topic)[\(place.partition)]: \(String(cString: rd_kafka_err2str(message.pointee.err)))"
                )
            }
            guard message.pointee.offset == offset else { continue }
            var headers: OpaquePointer?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR,
                rd_kafka_header_get_last(headers, "popsink-event-id", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR,
                let value,
                let id = EventID(String(decoding: UnsafeRawBufferPointer(start: value, count: size), as: UTF8.self))
            else {
                throw SinkError(
                    .diverged,
                    "\(place.topic)[\(place.partition)] at offset \(offset) has no popsink-event-id header: the topic must be this sink's own",
                    retryable: false)
            }
            return id
        }
        throw SinkError(
            .timeout,
            "reading back \(place.topic)[\(place.partition)] at offset \(offset) took over \(settings.deliveryTimeoutSeconds) s"
        )
    }

    func close(abrupt: Bool) {
        for topic in topics.values { rd_kafka_topic_destroy(topic.handle) }
        topics = [:]
        if let producer {
            rd_kafka_purge(producer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            rd_kafka_destroy(producer)
        }
        if let consumer { rd_kafka_destroy(consumer) }
        producer = nil
        consumer = nil
    }
}
