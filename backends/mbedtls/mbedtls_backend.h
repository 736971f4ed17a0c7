/* mbedTLS backend: op groups and shared state between its files. */
#ifndef DK_MBEDTLS_BACKEND_H
#define DK_MBEDTLS_BACKEND_H

#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <dtlskit/backend.h>

extern const dk_bk_library_ops dk_mbed_library_ops;
extern const dk_bk_key_ops dk_mbed_key_ops;
extern const dk_bk_cert_ops dk_mbed_cert_ops;
extern const dk_bk_ctx_ops dk_mbed_ctx_ops;
extern const dk_bk_session_ops dk_mbed_session_ops;
extern const dk_bk_aead_ops dk_mbed_aead_ops;
extern const dk_bk_crypto_ops dk_mbed_crypto_ops;

struct dk_bk_key {
    mbedtls_pk_context pk;
    bool public_only;
};

/* One certificate per object: `crt` is never linked to another one. */
struct dk_bk_cert {
    mbedtls_x509_crt crt;
};

/* One configuration shared by every session of the context. `own` and
 * `trust` are chains copied from the certificates given, because mbedTLS
 * wants linked lists and the caller's objects must stay unlinked. */
/* The first retransmission timeout mbedTLS is configured with: the
 * sessions read mbedTLS's timer as a count of doublings of it. */
#define DK_MBED_RTO_BASE_MS 1

struct dk_bk_ctx {
    mbedtls_ssl_config conf;
    mbedtls_x509_crt own;
    mbedtls_x509_crt trust;
    /* The core's suites as mbedTLS wants them (IANA ids, zero-terminated):
     * the config keeps the pointer. */
    int *suites;
    dk_bk_role role;
    bool verify_peer;
    bool require_peer_cert;
    /* Server issuing session tickets (RFC 5077) under the core's keys:
     * the ticket callbacks of `conf` get this context (mbedtls_session.c). */
    bool tickets;
    unsigned ticket_lifetime_s;
    int (*ticket_key)(void *user, const uint8_t *name, dk_bk_ticket_key *out);
    void *ticket_user;
};

/* Hashes and HMACs of the crypto ops (mbedtls_digest.c). */
mbedtls_md_type_t dk_mbed_md_type(dk_hash_type alg);
dk_err dk_mbed_md_create(dk_hash_type alg, const uint8_t *key, size_t key_len, dk_bk_md **out);
dk_err dk_mbed_md_update(dk_bk_md *m, const uint8_t *data, size_t len);
dk_err dk_mbed_md_finish(dk_bk_md *m, uint8_t *out);
void dk_mbed_md_free(dk_bk_md *m);

/* Installs the key export callback that feeds export_secrets
 * (mbedtls_session.c). */
void dk_mbed_conf_export(mbedtls_ssl_config *conf);

/* Server with tickets: installs the ticket callbacks that seal and open
 * tickets with the core's keys (mbedtls_session.c). Client: asks for
 * tickets. */
void dk_mbed_conf_tickets(dk_bk_ctx *c);

/* True when `suite` is one of the context's suites. */
bool dk_mbed_ctx_has_suite(const dk_bk_ctx *c, int suite);

/* Server: installs the PSK callback that asks each session's
 * dk_bk_io.psk_key for the key of the identity its client sent
 * (mbedtls_session.c). */
void dk_mbed_conf_psk_server(mbedtls_ssl_config *conf);

/* The longest pre-shared key mbedTLS takes (MBEDTLS_PSK_MAX_LEN, 32 in
 * the default build), capped at the contract's 64; 0 without PSK key
 * exchanges. */
#if defined(MBEDTLS_KEY_EXCHANGE_PSK_ENABLED) || defined(MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED)
#define DK_MBED_PSK_MAX (MBEDTLS_PSK_MAX_LEN < 64 ? MBEDTLS_PSK_MAX_LEN : 64)
#else
#define DK_MBED_PSK_MAX 0
#endif

/* The process-wide DRBG, seeded at init; thread-safe (MBEDTLS_THREADING_C). */
mbedtls_ctr_drbg_context *dk_mbed_drbg(void);

/* The configurations' random generator: the DRBG `p_rng`, except for the
 * session id of a client's ClientHello with a ticket, which mbedTLS draws
 * again for the ClientHello after a HelloVerifyRequest (mbedtls_session.c). */
int dk_mbed_rng(void *p_rng, unsigned char *out, size_t len);

/* Writes mbedTLS's text for `ret` into `reason`, after `prefix` (may be
 * NULL). */
void dk_mbed_reason(int ret, const char *prefix, char *reason, size_t cap);

/* True for the errors an encrypted key gives without its right password. */
bool dk_mbed_is_password_error(int ret);

/* A new certificate object from one DER certificate (copied). */
dk_err dk_mbed_cert_from_der(const uint8_t *der, size_t len, dk_bk_cert **out, char *reason,
                             size_t cap);

/* Encrypted PKCS#8 keys, which mbedTLS 2.28 cannot decrypt with AES
 * (mbedtls_pkcs8.c). `data` is DER, or PEM with its NUL counted in `len`.
 * Returns 0 with `pk` set, MBEDTLS_ERR_PK_PASSWORD_REQUIRED (encrypted, no
 * password) or _MISMATCH, MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE when `data` is
 * no PBES2-encrypted PKCS#8 (mbedTLS parses it), or another error. */
int dk_mbed_pkcs8_parse(mbedtls_pk_context *pk, const uint8_t *data, size_t len,
                        const char *password);

/* Name checks mbedTLS 2.28 cannot do (mbedtls_hostname.c): `name` is a host
 * name (dNSName SANs with wildcards, else the CN) or an IP literal
 * (iPAddress SANs). */
bool dk_mbed_is_ip_literal(const char *name);
bool dk_mbed_cert_matches_name(const mbedtls_x509_crt *crt, const char *name);
/* "certificate is for CN=a, DNS:b, IP:c, not 'name'", the reason every
 * backend gives for a host name mismatch; truncated to `cap`. */
void dk_mbed_mismatch_text(const mbedtls_x509_crt *crt, const char *name, char *buf, size_t cap);

/* Verification flags as one line of text. */
void dk_mbed_verify_text(uint32_t flags, char *buf, size_t cap);

/* The name of a TLS alert, as OpenSSL spells it ("bad certificate"). */
const char *dk_mbed_alert_name(int desc);

#endif
