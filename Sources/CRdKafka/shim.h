#ifndef CRDKAFKA_SHIM_H
#define CRDKAFKA_SHIM_H
// librdkafka's C API (Debian's librdkafka-dev), for the Kafka sink; the mock
// cluster header is what the tests run against.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
