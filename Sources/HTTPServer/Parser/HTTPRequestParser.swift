// Incremental HTTP/1.1 request parser (RFC 9112): a pure state machine with no I/O.
// The connection appends bytes in whatever pieces the socket delivers and pulls one
// event at a time with `next()`; the same bytes split at any offset give the same
// events. Once an error is thrown the parser stays failed: the connection answers
// with `error.status` and closes, since the framing of anything after it is unknown.
import Glibc

struct HTTPRequestParser {
    struct Limits: Sendable, Equatable {
        var maxRequestLine = 8 * 1024
        var maxHeaderBytes = 32 * 1024
        var maxHeaderCount = 100
        var maxBodyBytes = 1024 * 1024
        /// A chunk-size line with its extensions.
        var maxChunkLine = 4 * 1024
    }

    enum Event {
        /// The head of a request with `Expect: 100-continue` and a body is complete and
        /// none of the body has arrived: the server should send `100 Continue` now.
        case expectContinue
        case request(HTTPRequest)
    }

    enum State {
        case requestLine
        case fieldLines
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailerLines
        case failed(HTTPParseError)
    }

    /// The head being built while its lines arrive.
    struct Head {
        var method = ""
        var target = ""
        var version = HTTPVersion.http1_1
        var headers = HTTPHeaders()
        /// Bytes of the header (later trailer) section so far, CRLFs included.
        var sectionBytes = 0
        var fieldCount = 0
    }

    let limits: Limits
    var state = State.requestLine
    var buffer: [UInt8] = []
    /// Start of the bytes not consumed yet.
    var position = 0
    /// Bytes before this index (and after `position`) are known to hold no LF.
    private var scanned = 0
    /// Empty lines received before the request-line (RFC 9112 §2.2), counted against its limit.
    private var preambleBytes = 0
    var head = Head()
    private var body: [UInt8] = []

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not consumed yet (the next pipelined requests, say).
    var bufferedByteCount: Int { buffer.count - position }

    /// Nothing of a next request has arrived.
    var isIdle: Bool {
        if case .requestLine = state { return bufferedByteCount == 0 && preambleBytes == 0 }
        return false
    }

    /// The head is complete and the body is being received.
    var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunkSize, .chunkData, .chunkDataEnd, .trailerLines: true
        case .requestLine, .fieldLines, .failed: false
        }
    }

    /// The next complete event, nil if more bytes are needed.
    mutating func next() throws(HTTPParseError) -> Event? {
        defer { compact() }
        do {
            return try advance()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func advance() throws(HTTPParseError) -> Event? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .requestLine:
                let limit = limits.maxRequestLine - preambleBytes
                guard let line = try nextLine(limit: limit, tooLong: .requestLineTooLong) else { return nil }
                if line.isEmpty {
                    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
                    preambleBytes += 2
                    continue
                }
                try parseRequestLine(line)
                preambleBytes = 0
                state = .fieldLines
            case .fieldLines:
                let limit = max(0, limits.maxHeaderBytes - head.sectionBytes - 2)
                guard let line = try nextLine(limit: limit, tooLong: .headerSectionTooLarge) else { return nil }
                if line.isEmpty {
                    if let event = try finishHead() { return event }
                    continue
                }
                let field = try field(line)
                head.headers.add(field.name, field.value)
            case .fixedBody(let remaining):
                let taken = takeBody(upTo: remaining)
                if taken == 0 { return nil }
                if taken < remaining {
                    state = .fixedBody(remaining: remaining - taken)
                    return nil
                }
                return emitRequest()
            case .chunkSize:
                guard let line = try nextLine(limit: limits.maxChunkLine, tooLong: .invalidChunkLine) else {
                    return nil
                }
                let size = try chunkSize(line)
                state = size == 0 ? .trailerLines : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let taken = takeBody(upTo: remaining)
                if taken == 0 { return nil }
                state = taken < remaining ? .chunkData(remaining: remaining - taken) : .chunkDataEnd
            case .chunkDataEnd:
                // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
                if bufferedByteCount >= 1, buffer[position] != HTTPSyntax.cr {
                    throw HTTPParseError(.invalidChunkTerminator, buffer[position...])
                }
                guard bufferedByteCount >= 2 else { return nil }
                guard buffer[position + 1] == HTTPSyntax.lf else {
                    throw HTTPParseError(.invalidChunkTerminator, buffer[position...])
                }
                position += 2
                state = .chunkSize
            case .trailerLines:
                // RFC 9112 §7.1.2: trailer fields are checked like header fields, then
                // discarded (RFC 9110 §6.5.1 lets a recipient do so).
                let limit = max(0, limits.maxHeaderBytes - head.sectionBytes - 2)
                guard let line = try nextLine(limit: limit, tooLong: .headerSectionTooLarge) else { return nil }
                if line.isEmpty { return emitRequest() }
                _ = try field(line)
            }
        }
    }

    /// The content of the next CRLF-terminated line (without the CRLF), nil if it has
    /// not fully arrived. `limit` bounds the content length (RFC 9112 §2.2, §2.3).
    private mutating func nextLine(limit: Int, tooLong: HTTPParseError.Kind) throws(HTTPParseError) -> Range<Int>? {
        let start = position
        let from = max(scanned, start)
        let found: Int? = buffer.withUnsafeBytes { raw in
            guard from < raw.count, let hit = memchr(raw.baseAddress! + from, Int32(HTTPSyntax.lf), raw.count - from)
            else { return nil }
            return raw.baseAddress!.distance(to: UnsafeRawPointer(hit))
        }
        guard let lf = found else {
            scanned = buffer.count
            // The content may yet end with the CR of its CRLF, hence `limit + 1`.
            if buffer.count - start > limit + 1 { throw HTTPParseError(tooLong, buffer[start...]) }
            return nil
        }
        // Length first, as when the LF has not arrived yet: a line over the limit is too
        // long however its bytes were split, whatever else is wrong with it (found by
        // Fuzz/http-parser: a long line ending in a bare LF was 400 whole, 414 in pieces).
        if lf - start > limit + 1 { throw HTTPParseError(tooLong, buffer[start..<lf]) }
        guard lf > start, buffer[lf - 1] == HTTPSyntax.cr else { throw HTTPParseError(.bareLF, buffer[start..<lf]) }
        let content = start..<(lf - 1)
        if content.count > limit { throw HTTPParseError(tooLong, buffer[content]) }
        // RFC 9112 §2.2: a bare CR inside a line is invalid.
        if buffer[content].contains(HTTPSyntax.cr) { throw HTTPParseError(.bareCR, buffer[content]) }
        position = lf + 1
        scanned = position
        return content
    }

    /// Moves up to `limit` buffered bytes into the body; returns how many.
    private mutating func takeBody(upTo limit: Int) -> Int {
        let count = min(limit, bufferedByteCount)
        body.append(contentsOf: buffer[position..<(position + count)])
        position += count
        scanned = position
        return count
    }

    mutating func emitRequest() -> Event {
        let request = HTTPRequest(
            method: head.method, target: head.target, version: head.version, headers: head.headers, body: body
        )
        head = Head()
        body = []
        state = .requestLine
        return .request(request)
    }

    var bodyCount: Int { body.count }

    /// Drops consumed bytes once they are most of the buffer, so a long keep-alive
    /// connection does not grow it forever and small feeds do not copy it each time.
    private mutating func compact() {
        if position == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            position = 0
            scanned = 0
        } else if position >= 16 * 1024, position * 2 >= buffer.count {
            buffer.removeSubrange(0..<position)
            scanned -= position
            position = 0
        }
    }
}
