// The checker against the real test cluster: a source that meets every
// prerequisite, and sources that cannot be reached at all.

import Foundation
import PostgresReplication
import PostgresTestSupport
import SourceCheck
import Testing

@Suite struct SourceCheckerTests {
    @Test func sourceMeetingEveryPrerequisitePasses() throws {
        let fixture = try CheckFixture(attributes: "REPLICATION")
        try fixture.execute(
            """
            CREATE TABLE orders (id int PRIMARY KEY, note text);
            CREATE TABLE users (id int PRIMARY KEY);
            ALTER TABLE orders REPLICA IDENTITY FULL;
            ALTER TABLE users REPLICA IDENTITY FULL;
            GRANT SELECT ON orders, users TO \(fixture.role);
            CREATE PUBLICATION popsink FOR TABLE orders, users;
            """)
        let report = fixture.check()
        #expect(report.passed, "\(renderText(report))")
        #expect(report.checks.map(\.id) == CheckID.allCases)
        // The shared test cluster speaks no TLS, and DDL capture is optional: only those are warnings.
        #expect(
            report.checks.allSatisfy { $0.status == .pass || $0.id == .tls || $0.id == .ddlCapture },
            "\(renderText(report))")
        #expect(report[.tls]?.status == .warn)
        #expect(report[.ddlCapture]?.status == .warn)
        #expect(
            report[.publication]?.detail == "Publication \"popsink\" publishes 2 tables: public.orders, public.users.")
        #expect(report.serverVersion != nil)
        #expect(report.source.contains("dbname=\(fixture.database)"))
        #expect(
            renderText(report).contains("✓ Replica identity FULL: All 2 published tables have REPLICA IDENTITY FULL."))
    }

    @Test func closedPortGivesAFailedConnectCheck() throws {
        let (port, socket) = try Self.closedPort()
        defer { close(socket) }
        let settings = try ConnectionSettings(parsing: "host=127.0.0.1 port=\(port) user=nobody dbname=nowhere")
        let report = SourceChecker.run(settings: settings)
        #expect(!report.passed)
        #expect(report.serverVersion == nil)
        let connect = try #require(report[.connect])
        #expect(connect.status == .fail)
        #expect(connect.detail.contains("Connection refused"), "\(connect.detail)")
        #expect(connect.remediation?.contains("Postgres is running") == true)
        #expect(report.checks.dropFirst().allSatisfy { $0.status == .skip })
        #expect(renderText(report).contains("✗ Connection: Could not connect:"))
    }

    @Test func asyncRunGivesTheSameReport() async throws {
        let (port, socket) = try Self.closedPort()
        defer { close(socket) }
        let settings = try ConnectionSettings(parsing: "host=127.0.0.1 port=\(port) user=nobody dbname=nowhere")
        let report = await SourceChecker.run(settings: settings, publication: "popsink")
        #expect(report[.connect]?.status == .fail)
        #expect(report.checks.count == CheckID.allCases.count)
    }

    @Test func unknownDatabaseSaysToCheckTheName() throws {
        let server = try TestPostgres.shared()
        let settings = try ConnectionSettings(
            parsing: server.connectionString(database: "no_such_db_\(CheckFixture.uniqueSuffix())"))
        let connect = try #require(SourceChecker.run(settings: settings)[.connect])
        #expect(connect.status == .fail)
        #expect(connect.detail.contains("does not exist"))
        #expect(connect.remediation?.contains("database name") == true)
    }

    /// A port on 127.0.0.1 that refuses connections: bound, so no one else
    /// takes it while the test runs, but not listening.
    static func closedPort() throws -> (port: Int, socket: Int32) {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(bound)
        return (Int(UInt16(bigEndian: address.sin_port)), fd)
    }
}
