// The webhook sink's checks: the receiver is reachable (and, for https, its
// certificate verifies for its host against the system's CAs or ca_file),
// and it answers a HEAD to the sink's URL with something deliveries can work
// with. A HEAD carries no events; it is signed like a delivery of an empty
// body, so a receiver that checks signatures can tell the secret is right.
// Receivers that take only POST answer 405, which proves as much as a 2xx.

import Foundation

struct WebhookCheck {
    let settings: WebhookSettings

    func run() -> [SinkCheckResult] {
        guard let url = HTTPURL(settings.url) else {
            return [
                .init(
                    id: "connect", title: "Connection", status: .fail, detail: "\(settings.url) is not an http[s] URL.",
                    remediation: "Set url to http[s]://host[:port]/path."),
                .skipped("probe", "Probe", because: "the URL does not parse"),
            ]
        }
        let title = url.secure ? "Connection and TLS" : "Connection"
        let response: HTTPClient.Response
        do {
            let timestamp = Int64(Date().timeIntervalSince1970)
            let headers = [
                ("User-Agent", "popsink-pg sink check"), ("Popsink-Timestamp", String(timestamp)),
                ("Popsink-Signature", WebhookSignature.header(secret: settings.secret, timestamp: timestamp, body: [])),
            ]
            response = try HTTPClient.request(
                "HEAD", url, headers: headers, timeout: settings.timeoutSeconds, caFile: settings.caFile)
        } catch {
            return [
                .init(
                    id: "connect", title: title, status: .fail, detail: error.message,
                    remediation: url.secure
                        ? "Check that the receiver listens on \(url.hostHeader) and that its certificate is valid for \(url.host), signed by a CA in the system's store or in ca_file."
                        : "Check that the receiver listens on \(url.hostHeader) and is reachable from this machine."),
                .skipped("probe", "Probe", because: "no connection"),
            ]
        }
        let reached = SinkCheckResult(
            id: "connect", title: title, status: url.secure ? .pass : .warn,
            detail: url.secure
                ? "Connected to \(url.hostHeader); its certificate verifies for \(url.host)."
                : "Connected to \(url.hostHeader) over plain http: events and their signatures travel unencrypted.",
            remediation: url.secure ? nil : "Use an https URL where the network is not trusted.")
        return [reached, probe(response)]
    }

    private func probe(_ response: HTTPClient.Response) -> SinkCheckResult {
        let answer = "HEAD \(settings.url) answered \(response.status) \(response.reason)"
        switch response.status {
        case 200..<300, 405:
            return .init(id: "probe", title: "Probe", status: .pass, detail: "\(answer): the receiver is there.")
        case 300..<400:
            return .init(
                id: "probe", title: "Probe", status: .fail,
                detail: "\(answer): the sink follows no redirect, so its deliveries would park the sink.",
                remediation: "Set url to the address the redirect names, if that is the receiver.")
        case 401, 403:
            return .init(
                id: "probe", title: "Probe", status: .warn,
                detail: "\(answer): the receiver refused the probe, signed with the sink's secret like a delivery.",
                remediation:
                    "Give the receiver the same secret as the sink (deliveries carry only the Popsink-Signature header as credentials)."
            )
        case 404, 410:
            return .init(
                id: "probe", title: "Probe", status: .warn,
                detail: "\(answer): the path may be wrong (a receiver that routes only POST may answer this too).",
                remediation: "Check the path of url against the receiver's route.")
        case 400..<500:
            return .init(
                id: "probe", title: "Probe", status: .warn,
                detail: "\(answer): a 4xx to a delivery parks the sink.",
                remediation: "Check that url is the receiver's webhook endpoint.")
        default:
            return .init(
                id: "probe", title: "Probe", status: .warn,
                detail:
                    "\(answer): deliveries answered this way are retried with backoff until the receiver is healthy.",
                remediation: "Check the receiver's health and logs.")
        }
    }
}
