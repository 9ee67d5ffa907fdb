#ifndef CHTTPSHIMS_SHIM_H
#define CHTTPSHIMS_SHIM_H
// Linux readiness APIs that Swift's Glibc module does not export: the HTTP
// server's event loop waits on epoll and is woken through an eventfd.
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
#endif
