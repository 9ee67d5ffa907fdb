import Testing

// Feeding the request parser in pieces and collecting what it produced, so each
// test can check that every split of the same bytes gives the same result.
@testable import HTTPServer

struct ParseOutcome {
    var requests: [HTTPRequest] = []
    /// `C` for each expectContinue, `R` for each request, in order.
    var trace = ""
    var error: HTTPParseError?
}

/// Feeds `bytes` in pieces of `pieceSize` (nil: all at once), pulling events after
/// each piece, as the connection does.
func parse(_ bytes: [UInt8], pieceSize: Int? = nil, limits: HTTPRequestParser.Limits = .init()) -> ParseOutcome {
    let size = max(1, pieceSize ?? bytes.count)
    var pieces: [ArraySlice<UInt8>] = []
    var start = 0
    while start < bytes.count {
        pieces.append(bytes[start..<min(bytes.count, start + size)])
        start += size
    }
    return parse(pieces: pieces, limits: limits)
}

func parse(pieces: [ArraySlice<UInt8>], limits: HTTPRequestParser.Limits = .init()) -> ParseOutcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = ParseOutcome()
    for piece in pieces {
        parser.append(piece)
        do {
            while let event = try parser.next() {
                switch event {
                case .expectContinue: outcome.trace += "C"
                case .request(let request):
                    outcome.trace += "R"
                    outcome.requests.append(request)
                }
            }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    return outcome
}

func parse(_ text: String, pieceSize: Int? = nil, limits: HTTPRequestParser.Limits = .init()) -> ParseOutcome {
    parse(Array(text.utf8), pieceSize: pieceSize, limits: limits)
}

/// Expects `text` to be rejected with `kind`, both whole and fed one byte at a time.
func expectRejected(
    _ text: String, _ kind: HTTPParseError.Kind, status: Int? = nil, limits: HTTPRequestParser.Limits = .init(),
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for pieceSize in [nil, 1] as [Int?] {
        let outcome = parse(text, pieceSize: pieceSize, limits: limits)
        #expect(
            outcome.error?.kind == kind,
            "fed in pieces of \(pieceSize ?? 0): \(outcome.error.map(String.init(describing:)) ?? "no error")",
            sourceLocation: sourceLocation)
        if let status {
            #expect(outcome.error?.status == status, sourceLocation: sourceLocation)
        }
    }
}
