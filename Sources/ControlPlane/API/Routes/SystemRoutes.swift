// /healthz, /readyz and /metrics: the routes orchestrators and Prometheus poll.

import CDC
import Foundation
import HTTPServer
import Telemetry

struct SystemRoutes: Sendable {
    let context: APIContext

    func respond(_ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .healthz: try await Respond.only("GET", request) { .json(#"{"status":"ok"}"#) }
        case .readyz: try await Respond.only("GET", request) { await readiness() }
        default: try await Respond.only("GET", request) { await metrics() }
        }
    }

    private func metrics() async -> HTTPResponse {
        var samples: [PipelineSample] = []
        for record in (try? await context.store.pipelines()) ?? [] {
            let path = context.dataDirectory.eventStorePath(pipelineID: record.id)
            let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
            let followers = await StoreFollowers.read(storePath: path, sinks: record.sinks)
            let sinks = followers.sinkStatuses(record.sinks, live: context.registry.sinkStatuses(record.id)).map {
                SinkSample(
                    name: $0.name, type: $0.type, state: $0.state.rawValue, deliveredTotal: $0.deliveredTotal,
                    deliveredSequence: $0.deliveredSequence, lag: $0.backlogEvents, retries: $0.retries,
                    errors: Dictionary(uniqueKeysWithValues: $0.errors.map { ($0.key.rawValue, $0.value) }),
                    lostEvents: $0.lostEvents)
            }
            let consumers = followers.consumers.map {
                ConsumerSample(name: $0.name, lag: $0.lag(lastSequence: followers.lastSequence), lost: $0.hasLostEvents)
            }
            samples.append(
                PipelineSample(
                    id: record.id, status: context.registry.status(record.id), storeBytes: bytes, sinks: sinks,
                    consumers: consumers))
        }
        return .json(context.metrics.render(pipelines: samples), contentType: PopsinkMetrics.contentType)
    }

    private func readiness() async -> HTTPResponse {
        guard let records = try? await context.store.pipelines() else {
            return Respond.json(
                ["status": "not_ready", "reasons": ["the state store cannot be read"]] as JSON, status: 503)
        }
        let reasons = records.filter { context.registry.status($0.id).state == .failed }.map {
            "pipeline \($0.id) failed"
        }
        return Respond.json(
            ["status": reasons.isEmpty ? "ready" : "not_ready", "reasons": reasons] as JSON,
            status: reasons.isEmpty ? 200 : 503)
    }
}
