// The server's share of the open-file limit, and raising the soft limit.
import Glibc
import HTTPServer
import Testing

@Suite struct FileDescriptorBudgetTests {
    @Test(arguments: [(1024, 512), (2048, 1024), (20_000, 1024), (1_048_576, 1024), (256, 128), (1, 1)])
    func defaultIsHalfTheLimitUpTo1024(_ limit: Int, _ expected: Int) {
        #expect(FileDescriptorBudget.defaultMaxConnections(limit: limit) == expected)
    }

    @Test func softLimitIsRaisedToTheHardOne() {
        let raised = FileDescriptorBudget.raiseSoftLimit()
        var limit = rlimit()
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        #expect(limit.rlim_cur == limit.rlim_max)
        #expect(raised == FileDescriptorBudget.currentLimit())
        #expect(HTTPServerConfiguration().maxConnections == FileDescriptorBudget.defaultMaxConnections(limit: raised))
    }
}
