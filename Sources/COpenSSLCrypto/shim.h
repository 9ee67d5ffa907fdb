#ifndef COPENSSLCRYPTO_SHIM_H
#define COPENSSLCRYPTO_SHIM_H
// HMAC-SHA-256 from OpenSSL's libcrypto (Debian's libssl-dev), to sign webhook batches.
#include <openssl/hmac.h>
#include <openssl/evp.h>
#endif
