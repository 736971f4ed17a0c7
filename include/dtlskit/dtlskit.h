/** @file
 * dtlskit — secure datagram communication (DTLS 1.2 over UDP).
 *
 * Umbrella header: includes the whole public API and declares the library
 * information and logging calls.
 *
 *   error.h   dk_err codes, dk_strerror(), dk_last_error()
 *   crypto.h  dk_key, dk_cert, dk_tls_options
 *   crypto_ops.h random bytes, hashing, HMAC, signatures, RSA encryption
 *   udp.h     dk_udp_server, dk_udp_peer
 *   dtls.h    dk_dtls_server, dk_dtls_peer
 *   variant.h dk_variant (Godot's Variant serialization), put_var/get_var
 */
#ifndef DTLSKIT_H
#define DTLSKIT_H

#include <stdint.h>

#include <dtlskit/crypto.h>
#include <dtlskit/crypto_ops.h>
#include <dtlskit/dtls.h>
#include <dtlskit/error.h>
#include <dtlskit/export.h>
#include <dtlskit/udp.h>
#include <dtlskit/variant.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version of these headers (compile time; dk_version() gives the
 *  library linked at run time). */
#define DK_VERSION_MAJOR  0
/** Minor version of these headers. */
#define DK_VERSION_MINOR  1
/** Patch version of these headers. */
#define DK_VERSION_PATCH  0
/** Version of these headers as a string, "MAJOR.MINOR.PATCH". */
#define DK_VERSION_STRING "0.1.0"

/** The library's version ("0.1.0"). */
DK_API const char *dk_version(void);

/** Initialises the library and its TLS backend. Thread-safe and idempotent;
 *  every constructor calls it, so calling it is optional. Errors:
 *  DK_ERR_TLS when the backend fails to initialise. */
DK_API dk_err dk_init(void);

/** Name of the TLS backend compiled in: "openssl", "mbedtls" or "wolfssl". */
DK_API const char *dk_backend_name(void);

/** Version of the TLS library linked at run time ("OpenSSL 3.0.19 ..."). */
DK_API const char *dk_backend_version(void);

/* Capability bits of the backend, as the linked library build supports them
 * (dk_backend_caps()). */
#define DK_CAP_KEYGEN_RSA     (1u << 0) /**< dk_key_generate_rsa() */
#define DK_CAP_KEYGEN_EC      (1u << 1) /**< dk_key_generate_ec() */
#define DK_CAP_SELF_SIGNED    (1u << 2) /**< dk_cert_generate_self_signed() */
#define DK_CAP_CLIENT_AUTH    (1u << 3) /**< client certificates */
#define DK_CAP_ENCRYPTED_KEYS (1u << 4) /**< password-protected keys (PEM and DER) */
#define DK_CAP_CHACHA20       (1u << 5) /**< ChaCha20-Poly1305 suites */
#define DK_CAP_PSK            (1u << 6) /**< pre-shared keys (dk_tls_options_client_psk()...) */
#define DK_CAP_CID            (1u << 7) /**< DTLS Connection ID (not in the API yet) */
#define DK_CAP_DTLS13         (1u << 8) /**< DTLS 1.3 (not in the API yet) */
#define DK_CAP_MTU            (1u << 9) /**< handshake fragmented to the configured MTU */
/** AES-128-CCM-8 with certificates (0xC0AE); with PSK as well when
 *  dk_cipher_suite_available(0xC0A8). */
#define DK_CAP_CCM8 (1u << 10)
/** A server issues and resumes session tickets sealed with its own keys
 *  (dk_dtls_server_set_tickets()). Clients resume with a saved session on
 *  every backend; without this bit a server only makes full handshakes
 *  (GnuTLS 3.7 has no hook to seal tickets with the server's keys). */
#define DK_CAP_TICKETS (1u << 11)
/** A server accepts a ClientHello whose server_name extension holds an
 *  empty host name, as Godot 3 clients send when they connect without
 *  one (RFC 6066 does not allow it; GnuTLS 3.7 refuses it and the
 *  transcript a Finished covers cannot be edited). */
#define DK_CAP_EMPTY_SERVER_NAME (1u << 12)

/** Bitmask of DK_CAP_* for the backend compiled in. */
DK_API uint32_t dk_backend_caps(void);

/** Log levels, most severe first. */
typedef enum dk_log_level {
    /** Errors: the most severe level. */
    DK_LOG_ERROR = 0,
    /** Warnings. */
    DK_LOG_WARN = 1,
    /** Informational messages. */
    DK_LOG_INFO = 2,
    /** Debugging detail; the library logs each dk_last_error() message at
     *  this level. */
    DK_LOG_DEBUG = 3
} dk_log_level;

/** Receives one log line (no trailing newline). Called on the thread that
 *  made the call which logged. */
typedef void (*dk_log_fn)(dk_log_level level, const char *message, void *user);

/** Installs the log callback for the whole process, with the most verbose
 *  level wanted. NULL turns logging off (the default: the library never
 *  prints). Set it before other threads use the library. */
DK_API void dk_set_log_callback(dk_log_fn fn, dk_log_level max_level, void *user);

#ifdef __cplusplus
}
#endif

#endif
