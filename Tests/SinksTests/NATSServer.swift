// A real nats-server (Debian's package), with JetStream unless told
// otherwise, on a loopback port chosen by the test, in a temporary store
// directory; stopped by pid.

import CNATS
import Foundation

@testable import Sinks

final class NATSServer {
    let port: UInt16
    let storeDirectory: String
    /// Further arguments: a cluster node's name, cluster port and routes.
    private let extraArguments: [String]
    private let jetStream: Bool
    private var process: Process?

    var url: String { "nats://127.0.0.1:\(port)" }

    init(port: UInt16 = freeLoopbackPort(), jetStream: Bool = true, extraArguments: [String] = []) throws {
        self.port = port
        self.jetStream = jetStream
        self.extraArguments = extraArguments
        storeDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("nats-\(UUID().uuidString)").path
        try start()
    }

    deinit {
        stop(signal: SIGKILL)
        try? FileManager.default.removeItem(atPath: storeDirectory)
    }

    static let binary = ["/usr/sbin/nats-server", "/usr/bin/nats-server"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    func start() throws {
        guard let binary = Self.binary else {
            throw TestFailure("nats-server is not installed: apt-get install nats-server (.ci/run installs it)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            (jetStream ? ["-js"] : []) + ["-a", "127.0.0.1", "-p", String(port), "-sd", storeDirectory] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let up = eventually(10) { Self.accepts(port: port) }
        if !up { throw TestFailure("nats-server did not listen on 127.0.0.1:\(port) within 10 s") }
    }

    /// Stops the server (SIGTERM: a clean shutdown; SIGKILL: a crash) and waits for it to exit.
    func stop(signal: Int32 = SIGTERM) {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        self.process = nil
    }

    static func accepts(port: UInt16) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// The event ids in the stream, in stream order, with their subjects and the `Popsink-Op` header.
    func streamContents(_ stream: String) throws -> [(id: String, subject: String, op: String)] {
        var connection: OpaquePointer?
        guard natsConnection_ConnectTo(&connection, url) == NATS_OK else {
            throw TestFailure("cannot connect to \(url)")
        }
        defer { natsConnection_Destroy(connection) }
        var context: OpaquePointer?
        guard natsConnection_JetStream(&context, connection, nil) == NATS_OK else {
            throw TestFailure("no JetStream context")
        }
        defer { jsCtx_Destroy(context) }
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var code = jsErrCode(0)
        guard js_GetStreamInfo(&info, context, stream, nil, &code) == NATS_OK, let info else {
            throw TestFailure("no stream \(stream)")
        }
        let state = info.pointee.State
        jsStreamInfo_Destroy(info)
        var contents: [(id: String, subject: String, op: String)] = []
        guard state.LastSeq > 0 else { return [] }
        for sequence in state.FirstSeq...state.LastSeq {
            var message: OpaquePointer?
            guard js_GetMsg(&message, context, stream, sequence, nil, &code) == NATS_OK, let message else {
                throw TestFailure("cannot read message \(sequence) of \(stream)")
            }
            var id: UnsafePointer<CChar>?
            var op: UnsafePointer<CChar>?
            natsMsgHeader_Get(message, "Nats-Msg-Id", &id)
            natsMsgHeader_Get(message, "Popsink-Op", &op)
            contents.append(
                (
                    id.map { String(cString: $0) } ?? "", String(cString: natsMsg_GetSubject(message)),
                    op.map { String(cString: $0) } ?? ""
                ))
            natsMsg_Destroy(message)
        }
        return contents
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
