/* mbedTLS backend: op groups and shared state between its files. */
#ifndef DK_MBEDTLS_BACKEND_H
#define DK_MBEDTLS_BACKEND_H

#include <mbedtls/ctr_drbg.h>

#include <dtlskit/backend.h>

extern const dk_bk_library_ops dk_mbed_library_ops;

/* The process-wide DRBG, seeded at init; thread-safe (MBEDTLS_THREADING_C). */
mbedtls_ctr_drbg_context *dk_mbed_drbg(void);

#endif
