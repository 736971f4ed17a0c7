/* OpenSSL backend: op groups and helpers shared between its files. */
#ifndef DK_OPENSSL_BACKEND_H
#define DK_OPENSSL_BACKEND_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <dtlskit/backend.h>

extern const dk_bk_library_ops dk_ossl_library_ops;
extern const dk_bk_key_ops dk_ossl_key_ops;
extern const dk_bk_cert_ops dk_ossl_cert_ops;
extern const dk_bk_ctx_ops dk_ossl_ctx_ops;
extern const dk_bk_session_ops dk_ossl_session_ops;
extern const dk_bk_aead_ops dk_ossl_aead_ops;
extern const dk_bk_crypto_ops dk_ossl_crypto_ops;

struct dk_bk_key {
    EVP_PKEY *pkey;
    bool public_only;
};

struct dk_bk_cert {
    X509 *x509;
    unsigned char *der;
    size_t der_len;
};

#define DK_OSSL_PSK_MAX 64

struct dk_bk_ctx {
    SSL_CTX *ctx;
    /* Client with a pre-shared key: its identity and key (wiped on free). */
    char *psk_identity;
    uint8_t psk_key[DK_OSSL_PSK_MAX];
    size_t psk_key_len;
    /* Server with session tickets (RFC 5077): sealed with the core's keys
     * only, through ticket_key; no ticket resumes once older than
     * ticket_lifetime_s. */
    bool tickets;
    bool require_peer_cert;
    unsigned ticket_lifetime_s;
    int (*ticket_key)(void *user, const uint8_t *name, dk_bk_ticket_key *out);
    void *ticket_user;
    EVP_CIPHER *ticket_cipher; /* AES-256-CBC, fetched once */
};

dk_err dk_ossl_hmac_sha256(const void *key, size_t key_len, const dk_bk_iov *parts, size_t nparts,
                           uint8_t out[32]);
dk_err dk_ossl_hmac_sha384(const void *key, size_t key_len, const dk_bk_iov *parts, size_t nparts,
                           uint8_t out[48]);

/* Hashes and HMACs of the crypto ops (openssl_digest.c). */
dk_err dk_ossl_md_create(dk_hash_type alg, const uint8_t *key, size_t key_len, dk_bk_md **out);
dk_err dk_ossl_md_update(dk_bk_md *m, const uint8_t *data, size_t len);
dk_err dk_ossl_md_finish(dk_bk_md *m, uint8_t *out);
void dk_ossl_md_free(dk_bk_md *m);

/* Wraps an X509 (reference taken) as a backend certificate. */
dk_err dk_ossl_cert_wrap(X509 *x, dk_bk_cert **out);

/* Writes the first queued OpenSSL error (or `fallback`) into `reason` and
 * empties the queue. */
void dk_ossl_reason(char *reason, size_t cap, const char *fallback);

/* The datagram BIO between a session and the core (openssl_bio.c). */
BIO_METHOD *dk_ossl_bio_method(void);

/* OpenSSL's name of DTLS 1.2 suite `iana` when this build negotiates it,
 * else NULL (openssl_library.c; valid after library init). */
const char *dk_ossl_suite_name(uint16_t iana);

/* SSL ex_data index that holds the session (set up at init). */
int dk_ossl_session_index(void);

#endif
