#ifndef CHTTPSHIMS_SHIM_H
#define CHTTPSHIMS_SHIM_H
// Linux APIs that Swift's Glibc module does not export: the HTTP server's
// event loop waits on epoll and is woken through an eventfd, and accepts with
// accept4 so a connection is close-on-exec from its first instant (a child
// process started at the wrong moment would otherwise keep it open).
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

// glibc declares accept4 only under _GNU_SOURCE, and defining that here would
// give this module different struct layouts from Swift's Glibc module.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

static inline int chttp_accept_nonblocking_cloexec(int fd, struct sockaddr *address, socklen_t *length) {
    return accept4(fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
#endif
#endif
