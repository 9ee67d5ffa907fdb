// Hostile request bodies against the live API: each is answered with a 4xx
// problem, and the service still answers afterwards (no crash, no hang).
// The same reader is fuzzed by Fuzz/json-body.

import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite struct HostileJSONBodyTests {
    private static func repeated(_ text: String, _ count: Int) -> [UInt8] {
        Array(String(repeating: text, count: count).utf8)
    }

    /// Fields a source needs, so that only the hostile part makes a body wrong.
    private static let validFields = #""host":"127.0.0.1","port":5432,"database":"d","user":"u","sslmode":"disable""#

    static let bodies: [(name: String, bytes: [UInt8])] = [
        ("arrays nested 100k deep", repeated("[", 100_000) + repeated("]", 100_000)),
        ("objects nested 100k deep", repeated(#"{"a":"#, 100_000) + Array("1".utf8) + repeated("}", 100_000)),
        ("unclosed nesting 100k deep", repeated(#"{"a":["#, 100_000)),
        ("a 10 MB string", Array(#"{"name":""#.utf8) + repeated("x", 10_000_000) + Array(#""}"#.utf8)),
        ("a 900 kB name", Array(#"{"name":""#.utf8) + repeated("x", 900_000) + Array(#""}"#.utf8)),
        (
            "invalid UTF-8 in a string",
            Array(#"{"name":""#.utf8) + [0xFF, 0xFE, 0xC3] + Array(#"","#.utf8) + Array(validFields.utf8) + [0x7D]
        ),
        ("a lone surrogate escape", Array(#"{"name":"\ud800",\#(validFields)}"#.utf8)),
        ("a NUL escape in a name", Array(#"{"name":"a\u0000b",\#(validFields),"port":"x"}"#.utf8)),
        ("a port of 1e400", Array(#"{"name":"n","host":"h","database":"d","user":"u","port":1e400}"#.utf8)),
        (
            "a port of 400 digits",
            Array(#"{"name":"n","host":"h","database":"d","user":"u","port":"#.utf8) + repeated("9", 400) + [0x7D]
        ),
        ("a port of -1e-400", Array(#"{"name":"n","host":"h","database":"d","user":"u","port":-1e-400}"#.utf8)),
        (
            "a port of 2^63",
            Array(#"{"name":"n","host":"h","database":"d","user":"u","port":9223372036854775808}"#.utf8)
        ),
        ("duplicate keys", Array(#"{"name":"a","name":"b",\#(validFields)}"#.utf8)),
        ("duplicate keys, one escaped", Array(#"{"name":"a","n\u0061me":"b",\#(validFields)}"#.utf8)),
        ("duplicate nested keys", Array(#"{"name":"a","options":{"x":"1","x":"2"},\#(validFields)}"#.utf8)),
        ("not an object", Array("[1,2,3]".utf8)),
        ("trailing garbage", Array(#"{"name":"a"} {"#.utf8)),
        ("empty", []),
    ]

    @Test(.timeLimit(.minutes(5)))
    func hostileBodiesGet4xx() async throws {
        let service = try APIFlowTests.Service()
        for body in Self.bodies {
            var request = URLRequest(url: URL(string: service.base + "/v1/sources")!)
            request.httpMethod = "POST"
            request.timeoutInterval = 30
            request.httpBody = Data(body.bytes)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as! HTTPURLResponse).statusCode
            #expect(
                (400...499).contains(status),
                "\(body.name): \(status) \(String(decoding: data.prefix(300), as: UTF8.self))")
            let health = try await service.call("GET", "/healthz")
            #expect(health.status == 200, "after \(body.name)")
        }
        let sources = try await service.call("GET", "/v1/sources")
        // None of them created a source.
        #expect(sources.status == 200)
        #expect(!sources.raw.contains(#""id""#), "\(sources.raw.prefix(300))")
        await service.stop()
    }
}
