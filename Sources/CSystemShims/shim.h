#ifndef CSYSTEMSHIMS_SHIM_H
#define CSYSTEMSHIMS_SHIM_H
// Calls Swift's Glibc module does not export: gettid() is declared only with
// _GNU_SOURCE, and syscall() is variadic, which Swift cannot call. Threads
// need their kernel id to set their own scheduling priority (setpriority
// with PRIO_PROCESS and a thread id applies to that thread alone on Linux).
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>

static inline int popsink_thread_id(void) {
    return (int)syscall(SYS_gettid);
}
#endif
#endif
