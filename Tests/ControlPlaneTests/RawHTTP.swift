// One HTTP/1.1 request over a plain socket, with exactly the headers given:
// URLSession will not send a forged Host, Origin or Sec-Fetch-Site.

import Foundation

enum RawHTTP {
    struct Response {
        var status: Int
        var text: String
    }

    static func send(
        port: Int, _ method: String, _ path: String, headers: [(String, String)], body: String = ""
    ) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CocoaError(.fileReadUnknown) }
        defer { close(fd) }
        // Generous: a stop answered on a loaded CI machine took over 30 s once.
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw CocoaError(.fileReadUnknown) }
        var head = "\(method) \(path) HTTP/1.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Connection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let bytes = Array(head.utf8)
        guard Foundation.send(fd, bytes, bytes.count, 0) == bytes.count else { throw CocoaError(.fileWriteUnknown) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        return Response(status: status, text: text)
    }
}
