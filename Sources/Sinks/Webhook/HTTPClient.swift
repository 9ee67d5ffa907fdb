// A small HTTP/1.1 client for the webhook sink: one POST per connection
// (`Connection: close`) over a POSIX socket, non-blocking with poll(2) so
// that connect, send and receive all share one deadline; https through
// `TLSSession` on the same socket. Redirects are answers like any other,
// never followed.

#if canImport(Glibc)
    import Glibc
#endif

enum HTTPClient {
    struct Response {
        let status: Int
        let reason: String
    }

    /// The largest response head read before giving up on a receiver.
    static let maxHeadBytes = 16 * 1024

    /// - Parameter caFile: for https, the CA certificates to trust instead of the system's.
    static func post(
        _ url: HTTPURL, headers: [(String, String)], body: [UInt8], timeout: Double, caFile: String? = nil
    ) throws(SinkError) -> Response {
        try request("POST", url, headers: headers, body: body, timeout: timeout, caFile: caFile)
    }

    /// One request; a `HEAD` answer ends with its head (RFC 9110 §9.3.2: it has no content).
    static func request(
        _ method: String, _ url: HTTPURL, headers: [(String, String)] = [], body: [UInt8] = [], timeout: Double,
        caFile: String? = nil
    ) throws(SinkError) -> Response {
        let deadline = Deadline(seconds: timeout)
        let socket = try connect(url, deadline: deadline)
        defer { close(socket) }
        var tls: TLSSession?
        if url.secure {
            tls = try TLSSession(socket: socket, host: url.host, caFile: caFile)
            try tls!.handshake(deadline: deadline)
        }
        var head = "\(method) \(url.target) HTTP/1.1\r\nHost: \(url.hostHeader)\r\nConnection: close\r\n"
        if method != "HEAD" { head += "Content-Length: \(body.count)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try send(socket, tls, Array(head.utf8) + body, deadline: deadline)
        return try receive(socket, tls, headOnly: method == "HEAD", deadline: deadline)
    }

    struct Deadline {
        let end: timespec

        init(seconds: Double) {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let total = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + seconds
            end = timespec(tv_sec: Int(total), tv_nsec: Int((total - total.rounded(.down)) * 1e9))
        }

        /// Milliseconds left, 0 when passed.
        var remaining: Int32 {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let left = Double(end.tv_sec - now.tv_sec) * 1000 + Double(end.tv_nsec - now.tv_nsec) / 1e6
            return left <= 0 ? 0 : Int32(min(left.rounded(.up), Double(Int32.max)))
        }
    }

    private static func failure(_ action: String, _ url: HTTPURL) -> SinkError {
        let code = errno
        let kind: SinkError.Kind = code == ETIMEDOUT ? .timeout : .connection
        return SinkError(kind, "\(action) \(url.hostHeader): \(String(cString: strerror(code)))")
    }

    static func wait(_ socket: Int32, for events: Int16, deadline: Deadline, _ action: String) throws(SinkError) {
        while true {
            var entry = pollfd(fd: socket, events: events, revents: 0)
            let left = deadline.remaining
            if left == 0 { throw SinkError(.timeout, "\(action): no progress before the timeout") }
            let ready = poll(&entry, 1, left)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw SinkError(.connection, "\(action): poll failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func connect(_ url: HTTPURL, deadline: Deadline) throws(SinkError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(url.host, String(url.port), &hints, &list)
        guard resolved == 0, let list else {
            throw SinkError(.connection, "resolving \(url.host): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = SinkError(.connection, "no address for \(url.host)")
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let address = entry {
            entry = address.pointee.ai_next
            let socket = Glibc.socket(
                address.pointee.ai_family,
                address.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                address.pointee.ai_protocol)
            guard socket >= 0 else {
                lastError = failure("creating a socket for", url)
                continue
            }
            if Glibc.connect(socket, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return socket }
            guard errno == EINPROGRESS else {
                lastError = failure("connecting to", url)
                close(socket)
                continue
            }
            do {
                try wait(socket, for: Int16(POLLOUT), deadline: deadline, "connecting to \(url.hostHeader)")
            } catch {
                close(socket)
                throw error
            }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(socket, SOL_SOCKET, SO_ERROR, &code, &length)
            if code == 0 { return socket }
            errno = code
            lastError = failure("connecting to", url)
            close(socket)
        }
        throw lastError
    }

    private static func send(_ socket: Int32, _ tls: TLSSession?, _ bytes: [UInt8], deadline: Deadline)
        throws(SinkError)
    {
        var offset = 0
        while offset < bytes.count {
            if let tls {
                let written = bytes.withUnsafeBytes { all in
                    Result { () throws(SinkError) -> Int in
                        try tls.write(UnsafeRawBufferPointer(rebasing: all[offset...]), deadline: deadline)
                    }
                }
                offset += try written.get()
                continue
            }
            let sent = bytes.withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            if sent < 0 && (errno == EAGAIN || errno == EINTR) {
                try wait(socket, for: Int16(POLLOUT), deadline: deadline, "sending the request")
                continue
            }
            throw SinkError(.connection, "sending the request: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads the status line and headers, then the body as far as its length says (discarded).
    private static func receive(_ socket: Int32, _ tls: TLSSession?, headOnly: Bool, deadline: Deadline)
        throws(SinkError) -> Response
    {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        var response: Response?
        var bodyStart = 0
        var contentLength: Int?
        var chunked = false
        while true {
            if let response {
                if headOnly { return response }
                let body = buffer.count - bodyStart
                if let contentLength, body >= contentLength { return response }
                if chunked, buffer.suffix(5).elementsEqual("0\r\n\r\n".utf8) { return response }
                // Enough for a status: a receiver that sends an endless body does not hold the sink.
                if body > 64 * 1024 { return response }
            }
            let count =
                if let tls {
                    try chunk.withUnsafeMutableBytes { buffer in
                        Result { () throws(SinkError) -> Int in try tls.read(buffer, deadline: deadline) }
                    }.get()
                } else {
                    recv(socket, &chunk, chunk.count, 0)
                }
            if count == 0 {
                if let response { return response }
                throw SinkError(.connection, "the receiver closed the connection before answering")
            }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR {
                    try wait(socket, for: Int16(POLLIN), deadline: deadline, "waiting for the response")
                    continue
                }
                throw SinkError(.connection, "reading the response: \(String(cString: strerror(errno)))")
            }
            buffer.append(contentsOf: chunk[..<count])
            if response == nil, let end = headEnd(buffer) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
                let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
                guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]),
                    (100...599).contains(status)
                else { throw SinkError(.rejected, "the receiver's answer is not HTTP/1.x: \(head.prefix(80))") }
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    let name = line[..<colon].lowercased()
                    let value = line[line.index(after: colon)...].trimmingSpaces
                    if name == "content-length" { contentLength = Int(value) }
                    if name == "transfer-encoding", value.lowercased().contains("chunked") { chunked = true }
                }
                response = Response(status: status, reason: statusLine.count > 2 ? String(statusLine[2]) : "")
                bodyStart = end + 4
                if contentLength == nil && !chunked && status == 204 { contentLength = 0 }
            } else if response == nil && buffer.count > maxHeadBytes {
                throw SinkError(.rejected, "the receiver's response head is over \(maxHeadBytes) bytes")
            }
        }
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
