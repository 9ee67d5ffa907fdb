// Three nats-server nodes routed to each other on loopback, JetStream
// clustered, for an R3 stream that loses a node mid-run.

import CNATS
import Foundation

final class NATSCluster {
    let nodes: [NATSServer]

    init() throws {
        let clientPorts = (0..<3).map { _ in freeLoopbackPort() }
        let clusterPorts = (0..<3).map { _ in freeLoopbackPort() }
        let routes = clusterPorts.map { "nats://127.0.0.1:\($0)" }.joined(separator: ",")
        nodes = try (0..<3).map { index in
            try NATSServer(
                port: clientPorts[index],
                extraArguments: [
                    "--name", "n\(index)", "--cluster_name", "popsink-test",
                    "--cluster", "nats://127.0.0.1:\(clusterPorts[index])", "--routes", routes,
                ])
        }
        guard waitForJetStream() else { throw TestFailure("the cluster elected no JetStream leader within 30 s") }
    }

    var urls: [String] { nodes.map(\.url) }

    /// JetStream answers account info once the cluster has a meta leader.
    private func waitForJetStream() -> Bool {
        eventually(30) {
            var connection: OpaquePointer?
            guard natsConnection_ConnectTo(&connection, nodes[0].url) == NATS_OK else { return false }
            defer { natsConnection_Destroy(connection) }
            var context: OpaquePointer?
            guard natsConnection_JetStream(&context, connection, nil) == NATS_OK else { return false }
            defer { jsCtx_Destroy(context) }
            var info: UnsafeMutablePointer<jsAccountInfo>?
            var code = jsErrCode(0)
            let status = js_GetAccountInfo(&info, context, nil, &code)
            if let info { jsAccountInfo_Destroy(info) }
            return status == NATS_OK
        }
    }
}
