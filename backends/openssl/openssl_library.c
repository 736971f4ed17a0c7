/* OpenSSL 3 backend: library information, randomness and hashing. */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <dtlskit/backend.h>
#include <dtlskit/dtlskit.h>

#include "openssl_backend.h"

/* The DTLS 1.2 cipher suites this library build negotiates, as the default
 * configuration (security level, system policy) leaves them: filled once by
 * init, read-only afterwards. OpenSSL's SSL_CIPHER objects and their names
 * are static. */
#define SUITES_CAP 512
static struct {
    uint16_t id;
    const char *name;
} suites[SUITES_CAP];
static size_t nsuites;

/* Only there so that OpenSSL counts PSK suites as usable. */
static unsigned int no_psk(SSL *ssl, const char *hint, char *identity, unsigned int max_identity,
                           unsigned char *psk, unsigned int max_psk)
{
    (void)ssl;
    (void)hint;
    (void)identity;
    (void)max_identity;
    (void)psk;
    (void)max_psk;
    return 0;
}

/* Asks a throwaway DTLS 1.2 client which suites it would offer out of all
 * the library has: the version limits and the security level apply as they
 * will to the contexts made later. */
static bool suites_init(void)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    SSL *ssl = NULL;
    STACK_OF(SSL_CIPHER) *sk = NULL;
    bool ok = ctx && SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) == 1 &&
              SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) == 1 &&
              SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL") == 1;
    if (ok) {
        SSL_CTX_set_psk_client_callback(ctx, no_psk);
        ssl = SSL_new(ctx);
        sk = ssl ? SSL_get1_supported_ciphers(ssl) : NULL;
        ok = sk != NULL;
    }
    nsuites = 0;
    for (int i = 0; ok && i < sk_SSL_CIPHER_num(sk) && nsuites < SUITES_CAP; i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
        const char *name = SSL_CIPHER_get_name(c);
        if (name && *name) {
            suites[nsuites].id = SSL_CIPHER_get_protocol_id(c);
            suites[nsuites].name = name;
            nsuites++;
        }
    }
    sk_SSL_CIPHER_free(sk);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

const char *dk_ossl_suite_name(uint16_t iana)
{
    for (size_t i = 0; i < nsuites; i++)
        if (suites[i].id == iana)
            return suites[i].name;
    return NULL;
}

static bool ossl_suite_supported(uint16_t iana)
{
    return dk_ossl_suite_name(iana) != NULL;
}

static dk_err ossl_init(void)
{
    if (OPENSSL_init_ssl(0, NULL) != 1)
        return DK_ERR_TLS;
    /* Shared objects made once, before any thread uses a session. */
    if (dk_ossl_session_index() < 0 || !dk_ossl_bio_method() || !suites_init())
        return DK_ERR_TLS;
    return DK_OK;
}

static const char *ossl_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

static uint32_t ossl_caps(void)
{
    return DK_CAP_KEYGEN_RSA | DK_CAP_KEYGEN_EC | DK_CAP_SELF_SIGNED | DK_CAP_CLIENT_AUTH |
           DK_CAP_ENCRYPTED_KEYS | DK_CAP_CHACHA20 | DK_CAP_MTU | DK_CAP_TICKETS |
           DK_CAP_EMPTY_SERVER_NAME;
}

static dk_err ossl_random(void *out, size_t len)
{
    return RAND_bytes(out, (int)len) == 1 ? DK_OK : DK_ERR_TLS;
}

static dk_err ossl_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 ? DK_OK : DK_ERR_TLS;
}

const dk_bk_library_ops dk_ossl_library_ops = {
    .size = sizeof(dk_bk_library_ops),
    .init = ossl_init,
    .version = ossl_version,
    .caps = ossl_caps,
    .random = ossl_random,
    .hmac_sha256 = dk_ossl_hmac_sha256,
    .sha256 = ossl_sha256,
    .hmac_sha384 = dk_ossl_hmac_sha384,
    .suite_supported = ossl_suite_supported,
    /* OpenSSL takes PSK_MAX_PSK_LEN (512) bytes; the contract wants 64. */
    .psk_key_max = PSK_MAX_PSK_LEN < DK_OSSL_PSK_MAX ? PSK_MAX_PSK_LEN : DK_OSSL_PSK_MAX,
};
