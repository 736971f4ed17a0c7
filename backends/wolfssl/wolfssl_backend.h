/* wolfSSL backend: op groups and shared state between its files. */
#ifndef DK_WOLFSSL_BACKEND_H
#define DK_WOLFSSL_BACKEND_H

#include <wolfssl/options.h>

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <dtlskit/backend.h>

extern const dk_bk_library_ops dk_wolf_library_ops;
extern const dk_bk_key_ops dk_wolf_key_ops;
extern const dk_bk_cert_ops dk_wolf_cert_ops;
extern const dk_bk_ctx_ops dk_wolf_ctx_ops;
extern const dk_bk_session_ops dk_wolf_session_ops;
extern const dk_bk_aead_ops dk_wolf_aead_ops;
extern const dk_bk_crypto_ops dk_wolf_crypto_ops;

/* A key is kept as its DER encodings, the form every wolfSSL call takes;
 * wolfCrypt key objects are decoded from them only for as long as a
 * signature needs them. */
struct dk_bk_key {
    dk_key_type type;
    int bits;
    bool public_only;
    uint8_t *priv; /* PKCS#8 PrivateKeyInfo; NULL when public only */
    size_t priv_len;
    uint8_t *pub; /* SubjectPublicKeyInfo */
    size_t pub_len;
};

struct dk_bk_cert {
    WOLFSSL_X509 *x509;
    uint8_t *der; /* the exact bytes parsed */
    size_t der_len;
};

/* wolfSSL's limit for a pre-shared key (MAX_PSK_KEY_LEN in its internal.h,
 * which is not installed): the buffer its PSK callbacks write into. */
#define DK_WOLF_PSK_KEY_MAX 64

struct dk_bk_ctx {
    WOLFSSL_CTX *ctx;
    /* Client with a pre-shared key: identity and key (wiped when freed). */
    char *psk_identity;
    uint8_t psk_key[DK_WOLF_PSK_KEY_MAX];
    size_t psk_key_len;
    /* Session tickets (RFC 5077): a client asks for one; a server seals
     * and opens them with the core's keys (wolfssl_ctx.c). */
    bool tickets;
    unsigned ticket_lifetime_s;
    int (*ticket_key)(void *user, const uint8_t *name, dk_bk_ticket_key *out);
    void *ticket_user;
    /* Subject names of the trust anchors (wolfssl_anchors.c). */
    char **anchors;
    size_t nanchors, anchors_cap;
};

#define DK_WOLF_NAME_MAX 512

/* Trust anchor names (wolfssl_anchors.c): see there for why. */
void dk_wolf_anchors_add_der(dk_bk_ctx *c, const uint8_t *der, size_t len);
void dk_wolf_anchors_add_file(dk_bk_ctx *c, const char *pem_path);
bool dk_wolf_anchors_has(const dk_bk_ctx *c, const char *name);
void dk_wolf_anchors_free(dk_bk_ctx *c);

/* A private key decoded for wolfCrypt (wolfssl_keys.c). */
typedef struct dk_wolf_pkey {
    dk_key_type type;
    RsaKey rsa;
    ecc_key ecc;
} dk_wolf_pkey;

/* Hashes and HMACs of the crypto ops (wolfssl_digest.c). */
dk_err dk_wolf_md_create(dk_hash_type alg, const uint8_t *key, size_t key_len, dk_bk_md **out);
dk_err dk_wolf_md_update(dk_bk_md *m, const uint8_t *data, size_t len);
dk_err dk_wolf_md_finish(dk_bk_md *m, uint8_t *out);
void dk_wolf_md_free(dk_bk_md *m);

/* Random bytes from the library-wide generator (locked). */
dk_err dk_wolf_random(void *out, size_t len);

/* The library-wide generator for key generation and signatures: locked
 * until dk_wolf_rng_release(). */
WC_RNG *dk_wolf_rng_acquire(void);
void dk_wolf_rng_release(void);

/* Decodes the private part of `key` (which must have one). */
dk_err dk_wolf_pkey_decode(const dk_bk_key *key, dk_wolf_pkey *out);
void dk_wolf_pkey_free(dk_wolf_pkey *pk);

/* Re-encodes a SubjectPublicKeyInfo in the form the key ops write, so that
 * two encodings of one key compare equal. *out is malloc'd. */
dk_err dk_wolf_spki_canonical(const uint8_t *spki, size_t len, uint8_t **out, size_t *out_len);

/* Copies a DER certificate into a backend certificate. */
dk_err dk_wolf_cert_new(const uint8_t *der, size_t len, dk_bk_cert **out, char *reason,
                        size_t reason_cap);

/* cert_ops.self_signed (wolfssl_certgen.c). */
dk_err dk_wolf_cert_self_signed(const dk_bk_key *key, const uint8_t *name_der, size_t name_len,
                                const char *dns_name, int64_t not_before, int64_t not_after,
                                const uint8_t serial[16], dk_bk_cert **out, char *reason,
                                size_t cap);

/* wolfSSL's name for cipher suite `iana` (static storage), or NULL when
 * this build has no such suite. */
const char *dk_wolf_suite_name(uint16_t iana);

/* Server with tickets: whether `ticket` (the SessionTicket extension's
 * data, `len` bytes) opens with the core's keys and is within its lifetime
 * (wolfssl_ctx.c): wolfSSL resumes with it. */
bool dk_wolf_ticket_acceptable(const dk_bk_ctx *c, const uint8_t *ticket, size_t len);

/* "reason" for a wolfSSL or wolfCrypt error code, or `fallback`. */
void dk_wolf_reason(char *reason, size_t cap, int code, const char *fallback);

/* Zeroes secret bytes in a way the compiler keeps. */
void dk_wolf_wipe(void *p, size_t n);

#endif
