// libFuzzer target: the HTTP/1.1 request parser on arbitrary bytes. Beyond not
// crashing, it checks the parser's promise that the same bytes give the same
// requests whether they arrive at once or split at any offset (the split is
// taken from the input's first two bytes). Small limits put the limit paths
// within the fuzzer's reach.

private struct Outcome: Equatable {
    var requests: [String] = []
    var error: HTTPParseError.Kind?
}

private let limits = HTTPRequestParser.Limits(
    maxRequestLine: 256, maxHeaderBytes: 1024, maxHeaderCount: 16, maxBodyBytes: 4096, maxChunkLine: 128)

private func summary(_ request: HTTPRequest) -> String {
    let fields = request.headers.map { "\($0.name)=\($0.value)" }.joined(separator: "|")
    _ = (request.path, request.query, request.wantsKeepAlive)
    return "\(request.method) \(request.target) \(request.version) [\(fields)] \(request.body)"
}

private func parse(_ pieces: [ArraySlice<UInt8>]) -> Outcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = Outcome()
    for piece in pieces {
        parser.append(piece)
        do {
            while let event = try parser.next() {
                if case .request(let request) = event { outcome.requests.append(summary(request)) }
            }
        } catch {
            _ = error.detail(limits: limits)
            outcome.error = error.kind
            return outcome
        }
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let input = bytes[2...]
    let split = input.startIndex + (Int(bytes[0]) << 8 | Int(bytes[1])) % (input.count + 1)
    let whole = parse([input])
    let pieces = parse([input[..<split], input[split...]])
    if whole != pieces {
        fatalError("split at \(split - input.startIndex) changes the outcome: \(whole) versus \(pieces)")
    }
    return 0
}
