// Thin wrapper over a Linux epoll instance (level-triggered). Registrations carry a
// 64-bit token rather than the descriptor, so a message for a closed connection can
// never reach a newer one that reuses its descriptor number.
import CHTTPShims
import Glibc

struct EPoll: Sendable {
    let fd: Int32

    struct Events: OptionSet, Sendable {
        let rawValue: UInt32
        static let readable = Events(rawValue: EPOLLIN.rawValue)
        static let writable = Events(rawValue: EPOLLOUT.rawValue)
        static let hangup = Events(rawValue: EPOLLHUP.rawValue)
        static let error = Events(rawValue: EPOLLERR.rawValue)
    }

    /// Room for the events one `epoll_wait` reports; reused across iterations.
    struct ReadyList {
        fileprivate var events: [epoll_event]
        fileprivate(set) var count = 0

        init(capacity: Int) {
            events = Array(repeating: epoll_event(), count: capacity)
        }

        subscript(index: Int) -> (token: UInt64, events: Events) {
            (events[index].data.u64, Events(rawValue: events[index].events))
        }
    }

    init() throws(HTTPServerError) {
        fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw HTTPServerError.system(.socketFailed, "epoll_create1", errno) }
    }

    @discardableResult
    func add(_ descriptor: Int32, token: UInt64, events: Events) -> Bool {
        control(EPOLL_CTL_ADD, descriptor, token: token, events: events)
    }

    @discardableResult
    func modify(_ descriptor: Int32, token: UInt64, events: Events) -> Bool {
        control(EPOLL_CTL_MOD, descriptor, token: token, events: events)
    }

    func remove(_ descriptor: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, descriptor, &event)
    }

    private func control(_ operation: Int32, _ descriptor: Int32, token: UInt64, events: Events) -> Bool {
        var event = epoll_event()
        event.events = events.rawValue
        event.data.u64 = token
        return epoll_ctl(fd, operation, descriptor, &event) == 0
    }

    /// Waits up to `timeout` milliseconds (-1: forever). EINTR counts as an empty wake-up.
    func wait(into list: inout ReadyList, timeout: Int32) {
        let capacity = Int32(list.events.count)
        let count = list.events.withUnsafeMutableBufferPointer { epoll_wait(fd, $0.baseAddress, capacity, timeout) }
        list.count = max(0, Int(count))
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
