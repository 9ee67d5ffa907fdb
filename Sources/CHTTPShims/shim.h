#ifndef CHTTPSHIMS_SHIM_H
#define CHTTPSHIMS_SHIM_H
// Linux APIs that Swift's Glibc module does not export: the HTTP server's
// event loop waits on epoll and is woken through an eventfd, and names its
// threads so that top -H, perf and /proc/<pid>/task show which is which.
#ifdef __linux__
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

// glibc declares it only with _GNU_SOURCE, which the Glibc module is built without.
extern int pthread_setname_np(pthread_t thread, const char *name);

/// Names the calling thread: 15 bytes at most (ERANGE otherwise).
static inline int chttp_name_current_thread(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}
#endif
#endif
