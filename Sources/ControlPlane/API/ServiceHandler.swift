// Everything `popsink-pg serve` answers on one port: the API and the
// operations routes first, then the dashboard's files, then the API's 404;
// each request counted in the HTTP metrics under its bounded route label.
// One type, so the tests run the same dispatch as the service.

import HTTPServer

/// The HTTP handler of the service.
public struct ServiceHandler: Sendable {
    public let router: APIRouter
    public let files: StaticFiles
    let requestGuard: RequestGuard

    /// - Parameter listenHost: the host of `--listen`, accepted in `Host` beside the loopback names.
    public init(router: APIRouter, files: StaticFiles, listenHost: String? = nil) {
        self.router = router
        self.files = files
        requestGuard = RequestGuard(listenHost: listenHost, tokenRequired: router.requiresToken)
    }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let started = ContinuousClock.now
        let response: HTTPResponse
        if let refusal = requestGuard.refusal(for: request) {
            response = refusal.response(instance: request.path)
        } else if request.path.hasPrefix("/v1") || ["/healthz", "/readyz", "/metrics"].contains(request.path) {
            response = await router.handle(request)
        } else if let file = await files.response(for: request) {
            response = file
        } else {
            response = await router.handle(request)
        }
        router.metrics.recordHTTPRequest(
            route: APIRouter.routeTemplate(for: request), method: request.method, status: response.status,
            duration: ContinuousClock.now - started)
        return response
    }
}
