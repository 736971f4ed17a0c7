/* mbedTLS backend: library information, randomness and hashing. */
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/version.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <dtlskit/dtlskit.h>

#include "mbedtls_backend.h"

/* One DRBG for the library (mbedTLS locks it internally), not one per peer
 * as Godot does. */
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static char version_buf[64];

/* The process the DRBG was last seeded in. A child of fork() inherits the
 * DRBG's state: without a reseed, parent and children draw the same bytes
 * (handshake randoms, ECDHE keys, ticket IVs, generated keys). OpenSSL 3
 * notices forks itself; mbedTLS 2.28 does not. */
static _Atomic pid_t seeded_pid;
static pthread_mutex_t reseed_lock = PTHREAD_MUTEX_INITIALIZER;

mbedtls_ctr_drbg_context *dk_mbed_drbg(void)
{
    pid_t pid = getpid();
    if (atomic_load_explicit(&seeded_pid, memory_order_acquire) != pid) {
        pthread_mutex_lock(&reseed_lock);
        /* Fresh entropy, the pid as additional input. On failure the next
         * draw tries again. */
        if (atomic_load_explicit(&seeded_pid, memory_order_relaxed) != pid &&
            mbedtls_ctr_drbg_reseed(&drbg, (const unsigned char *)&pid, sizeof pid) == 0)
            atomic_store_explicit(&seeded_pid, pid, memory_order_release);
        pthread_mutex_unlock(&reseed_lock);
    }
    return &drbg;
}

static dk_err mbed_init(void)
{
    static const char pers[] = "dtlskit";
    /* Written once here, before any thread can ask for it. */
    strcpy(version_buf, "mbed TLS ");
    mbedtls_version_get_string(version_buf + strlen(version_buf));
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)pers,
                              sizeof pers - 1) != 0)
        return DK_ERR_TLS;
    /* Reseeding is handled by the DRBG's own interval, and after a fork by
     * dk_mbed_drbg(). */
    atomic_store(&seeded_pid, getpid());
    return DK_OK;
}

static const char *mbed_version(void)
{
    return version_buf;
}

static uint32_t mbed_caps(void)
{
    /* DK_CAP_MTU: mbedtls_ssl_set_mtu fragments handshake messages. */
    uint32_t caps = DK_CAP_KEYGEN_EC | DK_CAP_SELF_SIGNED | DK_CAP_CLIENT_AUTH | DK_CAP_MTU |
                    DK_CAP_TICKETS | DK_CAP_EMPTY_SERVER_NAME;
#if defined(MBEDTLS_GENPRIME) && defined(MBEDTLS_RSA_C)
    caps |= DK_CAP_KEYGEN_RSA;
#endif
#if defined(MBEDTLS_PEM_PARSE_C) && defined(MBEDTLS_PKCS5_C)
    caps |= DK_CAP_ENCRYPTED_KEYS;
#endif
#if defined(MBEDTLS_CHACHAPOLY_C)
    caps |= DK_CAP_CHACHA20;
#endif
    return caps;
}

static dk_err mbed_random(void *out, size_t len)
{
    return mbedtls_ctr_drbg_random(dk_mbed_drbg(), out, len) == 0 ? DK_OK : DK_ERR_TLS;
}

static dk_err mbed_sha256(const void *data, size_t len, uint8_t out[32])
{
    return mbedtls_sha256_ret(data, len, out, 0) == 0 ? DK_OK : DK_ERR_TLS;
}

/* HMAC over a sha256 context on the stack: no allocation per cookie. */
static dk_err mbed_hmac_sha256(const void *key, size_t key_len, const dk_bk_iov *parts,
                               size_t nparts, uint8_t out[32])
{
    uint8_t k[64] = {0}, pad[64], inner[32];
    if (key_len > sizeof k) {
        if (mbedtls_sha256_ret(key, key_len, k, 0) != 0)
            return DK_ERR_TLS;
    } else if (key_len) {
        memcpy(k, key, key_len);
    }
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    int rc = mbedtls_sha256_starts_ret(&c, 0);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    rc |= mbedtls_sha256_update_ret(&c, pad, 64);
    for (size_t i = 0; i < nparts; i++)
        rc |= mbedtls_sha256_update_ret(&c, parts[i].data, parts[i].len);
    rc |= mbedtls_sha256_finish_ret(&c, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    rc |= mbedtls_sha256_starts_ret(&c, 0);
    rc |= mbedtls_sha256_update_ret(&c, pad, 64);
    rc |= mbedtls_sha256_update_ret(&c, inner, 32);
    rc |= mbedtls_sha256_finish_ret(&c, out);
    mbedtls_sha256_free(&c);
    /* The key (cookie secret, ticket key) and what derives from it. */
    mbedtls_platform_zeroize(k, sizeof k);
    mbedtls_platform_zeroize(pad, sizeof pad);
    mbedtls_platform_zeroize(inner, sizeof inner);
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}

/* Through the md layer, which allocates: the PRF runs once per handshake,
 * not per datagram. */
static dk_err mbed_hmac_sha384(const void *key, size_t key_len, const dk_bk_iov *parts,
                               size_t nparts, uint8_t out[48])
{
    mbedtls_md_context_t c;
    mbedtls_md_init(&c);
    int rc = mbedtls_md_setup(&c, mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), 1);
    if (rc == 0)
        rc = mbedtls_md_hmac_starts(&c, key, key_len);
    for (size_t i = 0; rc == 0 && i < nparts; i++)
        rc = mbedtls_md_hmac_update(&c, parts[i].data, parts[i].len);
    if (rc == 0)
        rc = mbedtls_md_hmac_finish(&c, out);
    mbedtls_md_free(&c);
    if (rc == MBEDTLS_ERR_MD_ALLOC_FAILED)
        return DK_ERR_NOMEM;
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}

/* A suite this build negotiates in DTLS 1.2: one mbedTLS lists as
 * supported (its key exchange and cipher compiled in, not excluded by
 * MBEDTLS_SSL_CIPHERSUITES), allowed over datagrams and in TLS 1.2. The
 * PSK suites are listed only with their key exchange (PSK, ECDHE-PSK),
 * which is what makes DK_MBED_PSK_MAX non-zero. */
static bool mbed_suite_supported(uint16_t iana)
{
    bool listed = false;
    for (const int *l = mbedtls_ssl_list_ciphersuites(); *l && !listed; l++)
        listed = *l == (int)iana;
    const mbedtls_ssl_ciphersuite_t *cs = listed ? mbedtls_ssl_ciphersuite_from_id(iana) : NULL;
    if (!cs || (cs->flags & MBEDTLS_CIPHERSUITE_NODTLS) ||
        cs->min_minor_ver > MBEDTLS_SSL_MINOR_VERSION_3 ||
        cs->max_minor_ver < MBEDTLS_SSL_MINOR_VERSION_3)
        return false;
    return mbedtls_cipher_info_from_type(cs->cipher) != NULL;
}

const dk_bk_library_ops dk_mbed_library_ops = {
    .size = sizeof(dk_bk_library_ops),
    .init = mbed_init,
    .version = mbed_version,
    .caps = mbed_caps,
    .random = mbed_random,
    .hmac_sha256 = mbed_hmac_sha256,
    .sha256 = mbed_sha256,
    .hmac_sha384 = mbed_hmac_sha384,
    .suite_supported = mbed_suite_supported,
    .psk_key_max = DK_MBED_PSK_MAX,
};
