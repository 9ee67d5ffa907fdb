#ifndef CNATS_SHIM_H
#define CNATS_SHIM_H
// The NATS C client (Debian's libnats-dev), for the JetStream sink.
#include <nats/nats.h>
#endif
