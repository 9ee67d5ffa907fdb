// libFuzzer target: a JSON request body as the API reads it, through JSONInput
// (JSONSerialization, then typed fields with their errors) and the 400 / 422
// problem it becomes. Field names and types are those of the source and
// pipeline bodies, so a mutated seed reaches every reader.
import Foundation
import HTTPServer

private let allowed: Set<String> = [
    "name", "host", "port", "options", "filters", "initial_load", "include_tables", "id", "source_id",
]

private func read(_ body: [UInt8]) throws(Problem) {
    let request = HTTPRequest(
        method: "POST", target: "/v1/sources", headers: ["Content-Type": "application/json"], body: body)
    var input = try JSONInput(request, allowed: allowed)
    _ = input.has("id")
    _ = input.string("name", required: true)
    _ = input.string("host")
    _ = input.integer("port")
    _ = input.bool("initial_load")
    _ = input.stringMap("options")
    _ = input.filters("filters")
    _ = input.stringList("include_tables", in: input.object["include_tables"])
    _ = input.integer("source_id", in: input.object["source_id"])
    try input.validate()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONBody(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do throws(Problem) {
        try read(Array(UnsafeBufferPointer(start: data, count: size)))
    } catch {
        guard (400...499).contains(error.status) else { fatalError("a body answered \(error.status)") }
        _ = error.response(instance: "/v1/sources")
    }
    return 0
}
