// Without a token, the dashboard served over HTTPS (serve --tls-cert) sends
// `Origin: https://<host>`: that is the service itself, not a cross-site page.

import HTTPServer
import Testing

@testable import ControlPlane

@Suite struct HTTPSOriginTests {
    @Test func theServicesOwnHTTPSOriginIsSameOriginAndOthersAreNot() {
        let guardian = RequestGuard(listenHost: "127.0.0.1", tokenRequired: false)
        func refusal(origin: String) -> Problem? {
            guardian.refusal(
                for: HTTPRequest(
                    method: "POST", target: "/v1/sources",
                    headers: ["Host": "127.0.0.1:8443", "Origin": origin, "Content-Type": "application/json"]))
        }
        #expect(refusal(origin: "https://127.0.0.1:8443") == nil)
        #expect(refusal(origin: "http://127.0.0.1:8443") == nil)
        for origin in ["https://127.0.0.1:9999", "https://attacker.example", "null"] {
            #expect(refusal(origin: origin)?.status == 403, "\(origin)")
        }
    }
}
