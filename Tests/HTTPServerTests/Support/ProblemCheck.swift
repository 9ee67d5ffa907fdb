// Checks that a response the server produced by itself (a parse error, a
// limit, a timeout) is an RFC 9457 problem document, as the API's errors are.
import Foundation
import Testing

/// Expects `application/problem+json` with type, title, status and a detail
/// containing `detail`; returns the decoded document for further checks.
@discardableResult
func expectProblem(
    _ response: TestResponse, status: Int, detail: String, sourceLocation: SourceLocation = #_sourceLocation
) -> [String: Any] {
    #expect(response.status == status, sourceLocation: sourceLocation)
    #expect(response.headers["Content-Type"] == "application/problem+json", sourceLocation: sourceLocation)
    let document = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    #expect(document["type"] as? String == "about:blank", "\(response.text)", sourceLocation: sourceLocation)
    #expect(document["status"] as? Int == status, "\(response.text)", sourceLocation: sourceLocation)
    #expect((document["title"] as? String)?.isEmpty == false, "\(response.text)", sourceLocation: sourceLocation)
    #expect(
        (document["detail"] as? String)?.contains(detail) == true, "\(response.text)", sourceLocation: sourceLocation)
    return document
}
