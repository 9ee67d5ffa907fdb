// The sinks' pure parts: reading events' routing members, settings, names,
// signatures, backoff.

import EventStore
import Foundation
import Testing

@testable import Sinks

@Suite("Sinks, pure parts")
struct PureTests {
    @Test func eventFieldsReadsTheRoutingMembersAndSkipsTheRest() throws {
        let json =
            #"{"id":"0/16B3748:3","op":"u","ts_ms":1,"source":{"database":"app","schema":"pub\"lic","table":"us.ers","txid":751,"schema_version":2,"snapshot":false},"key":{"id":1,"s":"}"},"before":{"a":[1,{"b":"]"}]},"after":null}"#
        let fields = try EventFields(json: Array(json.utf8))
        #expect(fields.op == "u")
        #expect(fields.schema == "pub\"lic")
        #expect(fields.table == "us.ers")
        #expect(fields.schemaVersion == 2)
        #expect(fields.key.map { String(decoding: $0, as: UTF8.self) } == #"{"id":1,"s":"}"}"#)

        // Member names are matched on their bytes; one written with escapes is matched on its text.
        let escapedNames = try EventFields(
            json: Array(#"{"op":"d","source":{"table":"t","schema":"s"},"key":{"id":2},"opx":"c"}"#.utf8))
        #expect(escapedNames.op == "d" && escapedNames.table == "t" && escapedNames.schema == "s")
        #expect(escapedNames.key == Array(#"{"id":2}"#.utf8))
        let prefixes = try EventFields(json: Array(#"{"o":"x","opp":"y","op":"c","source":null}"#.utf8))
        #expect(prefixes.op == "c" && prefixes.table == nil)
    }

    @Test func eventFieldsTakesANullKeyAndRefusesMalformedJSON() throws {
        let truncate = try EventFields(
            json: Array(#"{"id":"0/1:0","op":"t","source":{"schema":"s","table":"t"},"key":null}"#.utf8))
        #expect(truncate.key == nil)
        #expect(truncate.op == "t")
        #expect(throws: EventFields.Malformed.self) { try EventFields(json: Array(#"{"op":"u","key":{"id":1"#.utf8)) }
        #expect(throws: EventFields.Malformed.self) { try EventFields(json: Array(#"{"op":"u"} trailing"#.utf8)) }
        #expect(throws: EventFields.Malformed.self) { try EventFields(json: []) }
        // Skipped strings: escapes (an escaped quote included) are stepped over, an unterminated one refused.
        let escaped = try EventFields(json: Array(#"{"id":"a\"b\\","op":"c","ts":"x\u0041"}"#.utf8))
        #expect(escaped.op == "c")
        #expect(throws: EventFields.Malformed.self) { try EventFields(json: Array(#"{"id":"0/1:0,"op":"c"}"#.utf8)) }
        #expect(throws: EventFields.Malformed.self) { try EventFields(json: Array(#"{"id":"ends in \"#.utf8)) }
        // Once op, source and key are read, the row images after them are not walked.
        let early = try EventFields(
            json: Array(#"{"op":"u","source":{"schema":"s","table":"t"},"key":{"id":1},"before":{"id":"#.utf8))
        #expect(early.key == Array(#"{"id":1}"#.utf8) && early.table == "t")
        // Without a key member the whole object is read and checked.
        #expect(throws: EventFields.Malformed.self) {
            try EventFields(json: Array(#"{"op":"m","source":{"schema":"s"},"content":"#.utf8))
        }
    }

    @Test func kafkaCheckMatchesTopicsOfATemplateAndRedactsURLs() {
        #expect(KafkaCheck.matches("popsink.p.public.orders", ["popsink.p.", ".", ""]))
        #expect(!KafkaCheck.matches("popsink.q.public.orders", ["popsink.p.", ".", ""]))
        #expect(!KafkaCheck.matches("popsink.p.orders", ["popsink.p.", ".", "x"]))
        #expect(SinkChecker.redactedURL("nats://u:pw@h:4222") == "nats://u:***@h:4222")
        #expect(SinkChecker.redactedURL("nats://token@h:4222") == "nats://***@h:4222")
        #expect(SinkChecker.redactedURL("nats://h:4222") == "nats://h:4222")
    }

    @Test func configRoundTripsThroughJSONWithItsType() throws {
        let json = #"{"name":"js","type":"jetstream","servers":["nats://127.0.0.1:4222"],"replicas":3}"#
        let config = try JSONDecoder().decode(SinkConfig.self, from: Data(json.utf8))
        guard case .jetstream(let settings) = config.target else {
            Issue.record("not jetstream")
            return
        }
        #expect(settings.replicas == 3)
        #expect(settings.stream == "POPSINK")
        #expect(config.batchSize == 500)
        #expect(config.violations().isEmpty)
        let again = try JSONDecoder().decode(SinkConfig.self, from: JSONEncoder().encode(config))
        #expect(again == config)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(SinkConfig.self, from: Data(#"{"name":"x","type":"smtp"}"#.utf8))
        }
    }

    @Test func violationsNameWhatIsWrong() {
        let kafka = SinkConfig(
            name: "bad name", target: .kafka(KafkaSettings(bootstrapServers: "", properties: ["acks": "1"])),
            batchSize: 0)
        let problems = kafka.violations()
        #expect(problems.contains { $0.contains("name") })
        #expect(problems.contains { $0.contains("batch_size") })
        #expect(problems.contains { $0.contains("bootstrap_servers") })
        #expect(problems.contains { $0.contains("acks") })
        let webhook = SinkConfig(name: "w", target: .webhook(WebhookSettings(url: "ftp://x/y", secret: "short")))
        #expect(webhook.violations().count == 2)
        let caOnHTTP = WebhookSettings(url: "http://x/y", secret: String(repeating: "s", count: 16), caFile: "/ca.pem")
        #expect(SinkConfig(name: "w", target: .webhook(caOnHTTP)).violations().count == 1)
    }

    @Test func subjectsAndTopicsAreSafeNames() throws {
        let settings = JetStreamSettings(servers: ["nats://127.0.0.1:1"])
        #expect(settings.streamSubject(pipeline: "p.1") == "popsink.p_1.>")
        let event = SinkEvent(
            sequence: 1, id: EventID("0/1:0")!, op: "c", schema: "public", table: "line *items", schemaVersion: 1,
            key: nil, body: [])
        #expect(settings.subject(pipeline: "p", event: event) == "popsink.p.public.line__items")
        #expect(
            KafkaSettings(bootstrapServers: "x").topic(pipeline: "p", event: event) == "popsink.p.public.line__items")
        #expect(SubjectPattern("popsink.>").covers("popsink.p.>"))
        #expect(SubjectPattern("popsink.p.>").covers("popsink.p.>"))
        #expect(!SubjectPattern("popsink.q.>").covers("popsink.p.>"))
        #expect(!SubjectPattern("popsink.*.x").covers("popsink.p.>"))
    }

    @Test func httpURLParsesWhatTheWebhookTakes() {
        let url = HTTPURL("http://127.0.0.1:8080/hooks/cdc?x=1#frag")
        #expect(url?.host == "127.0.0.1")
        #expect(url?.port == 8080)
        #expect(url?.target == "/hooks/cdc?x=1")
        #expect(HTTPURL("http://example.com")?.target == "/")
        #expect(HTTPURL("http://[::1]:9/")?.hostHeader == "[::1]:9")
        #expect(HTTPURL("https://example.com/")?.port == 443)
        #expect(HTTPURL("https://example.com/")?.secure == true)
        #expect(HTTPURL("https://example.com:443/")?.hostHeader == "example.com")
        #expect(HTTPURL("http://example.com/")?.secure == false)
        #expect(HTTPURL("ftp://example.com/") == nil)
        #expect(HTTPURL("http://user@example.com/") == nil)
        #expect(HTTPURL("http://:80/") == nil)
    }

    @Test func signatureIsHMACSHA256OfTimestampDotBody() {
        // RFC 4231 test case 2.
        let digest = WebhookSignature.hmacSHA256(
            key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(WebhookSignature.hex(digest) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let header = WebhookSignature.header(secret: "Jefe", timestamp: 12, body: Array("x".utf8))
        #expect(
            header == "v1="
                + WebhookSignature.hex(
                    WebhookSignature.hmacSHA256(key: Array("Jefe".utf8), message: Array("12.x".utf8))))
    }

    @Test func backoffGrowsToItsCapWithJitter() {
        var backoff = Backoff(base: 0.1, cap: 1)
        var generator = SystemRandomNumberGenerator()
        let delays = (0..<10).map { _ in backoff.next(using: &generator) }
        #expect(delays.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(delays[0] <= 0.1)
        backoff.reset()
        #expect(backoff.attempt == 0)
    }

    @Test func positionFileSurvivesAndRefusesGarbage() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pos-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = SinkPositionFile(path: directory + "/sink-a.position")
        #expect(try file.load() == nil)
        try file.save(SinkPosition(sequence: 42, eventID: EventID("0/16B3748:3")))
        #expect(try file.load() == SinkPosition(sequence: 42, eventID: EventID("0/16B3748:3")))
        try "nonsense".write(toFile: file.path, atomically: true, encoding: .utf8)
        #expect(throws: SinkError.self) { try file.load() }
    }
}

@Suite("Sink specs of run --sink")
struct SinkSpecTests {
    @Test func urlsAndJSONBecomeSinks() throws {
        let nats = try SinkConfig(spec: "nats://127.0.0.1:4222,127.0.0.1:4223?stream=CDC&replicas=3&name=js")
        #expect(nats.name == "js")
        #expect(
            nats.target
                == .jetstream(
                    JetStreamSettings(
                        servers: ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"], stream: "CDC", replicas: 3)))
        #expect(try SinkConfig(spec: "nats://h:1?batch-size=2000").batchSize == 2000)
        let kafka = try SinkConfig(spec: "kafka://b1:9092,b2:9092?topic=cdc.{table}&security.protocol=SASL_SSL")
        #expect(
            kafka.target
                == .kafka(
                    KafkaSettings(
                        bootstrapServers: "b1:9092,b2:9092", topic: "cdc.{table}",
                        properties: ["security.protocol": "SASL_SSL"])))
        let webhook = try SinkConfig(
            spec: "http://127.0.0.1:9/h", environment: ["POPSINK_WEBHOOK_SECRET": "0123456789abcdef"])
        #expect(webhook.target == .webhook(WebhookSettings(url: "http://127.0.0.1:9/h", secret: "0123456789abcdef")))
        let json = try SinkConfig(spec: #"{"name":"k","type":"kafka","bootstrap_servers":"b:9092"}"#)
        #expect(json.name == "k")
    }

    @Test func badSpecsSayWhatIsWrong() {
        #expect(throws: SinkError.self) { try SinkConfig(spec: "http://127.0.0.1:9/h", environment: [:]) }
        #expect(throws: SinkError.self) { try SinkConfig(spec: "nats://h:1?replica=3") }
        #expect(throws: SinkError.self) { try SinkConfig(spec: "kafka://h:1?acks=1") }
        #expect(throws: SinkError.self) { try SinkConfig(spec: "smtp://h") }
        #expect(throws: SinkError.self) { try SinkConfig(spec: "nats://h:1?batch-size=0") }
        #expect(throws: SinkError.self) { try SinkConfig(spec: "{") }
    }
}

@Suite("Sink status")
struct SinkStatusTests {
    @Test func quantilesComeFromTheHistogramsBuckets() {
        var histogram = DeliveryHistogram()
        for _ in 0..<98 { histogram.observe(0.004) }
        histogram.observe(0.2)
        histogram.observe(20)
        #expect(histogram.quantileBound(0.5) == 0.005)
        #expect(histogram.quantileBound(0.99) == 0.25)
        #expect(histogram.quantileBound(1) == nil)
        #expect(DeliveryHistogram().quantileBound(0.5) == nil)
        var status = SinkStatus(name: "js", type: "jetstream")
        status.deliverySeconds = histogram
        status.errors[.timeout] = 2
        #expect(status.summary.contains("p50 ≤ 0.005 s"))
        #expect(status.summary.contains("errors timeout=2"))
    }
}

@Suite("Sink secrets")
struct SinkSecretTests {
    @Test func redactedHidesSecretsAndKeepsTheRest() {
        let webhook = SinkConfig(
            name: "w", target: .webhook(WebhookSettings(url: "http://h/", secret: "0123456789abcdef")))
        #expect(webhook.redacted.target == .webhook(WebhookSettings(url: "http://h/", secret: "***")))
        let kafka = SinkConfig(
            name: "k",
            target: .kafka(
                KafkaSettings(
                    bootstrapServers: "b:9092",
                    properties: [
                        "sasl.password": "p", "sasl.username": "u", "ssl.key.password": "q",
                        "ssl.key.location": "/k.pem",
                    ])))
        guard case .kafka(let settings) = kafka.redacted.target else {
            Issue.record("not kafka")
            return
        }
        #expect(
            settings.properties == [
                "sasl.password": "***", "sasl.username": "u", "ssl.key.password": "***", "ssl.key.location": "/k.pem",
            ])
    }
}

@Suite("Sink forwarder without a target")
struct ForwarderParkingTests {
    @Test func anUnreadablePositionFileParksTheSinkWithTheReason() throws {
        let store = try StoreFixture()
        try store.append(5)
        try "garbage".write(toFile: store.positionPath, atomically: true, encoding: .utf8)
        let sink = SinkForwarder(
            config: SinkConfig(
                name: "test", target: .webhook(WebhookSettings(url: "http://127.0.0.1:9/", secret: "0123456789abcdef"))),
            pipelineID: "p", storePath: store.storePath, positionPath: store.positionPath, idleWait: 0.05)
        sink.start()
        #expect(eventually(10) { sink.status.state == .parked })
        #expect(sink.status.lastError?.contains("does not hold a position") == true)
        sink.stop()
    }
}
