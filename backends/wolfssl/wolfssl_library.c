/* wolfSSL backend: library information, randomness and hashing. */
#include "wolfssl_session.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <dtlskit/dtlskit.h>

static WC_RNG rng;
static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;
/* The process `rng` was seeded in: a child of fork() inherits its state
 * and would draw the parent's bytes (generated keys, ticket IVs, cookie
 * secrets); wolfSSL 5.5.4 does not notice forks. Under rng_lock. */
static pid_t seeded_pid;
static char version_buf[48];

/* A DTLS 1.2 context that only ever takes cipher lists: whether wolfSSL
 * accepts a suite there. Made on first use, kept for the process. */
static WOLFSSL_CTX *probe;
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;

static dk_err wolf_init(void)
{
    if (wolfSSL_Init() != WOLFSSL_SUCCESS)
        return DK_ERR_TLS;
    if (wc_InitRng(&rng) != 0)
        return DK_ERR_TLS;
    seeded_pid = getpid();
    dk_wolf_hello_init();
    /* Filled here, where the core serialises the call, rather than on the
     * first version() from any thread. */
    strcpy(version_buf, "wolfSSL ");
    strncat(version_buf, wolfSSL_lib_version(), sizeof version_buf - 9);
    return DK_OK;
}

static const char *wolf_version(void)
{
    return version_buf;
}

static uint32_t wolf_caps(void)
{
    uint32_t caps = 0;
#if defined(WOLFSSL_KEY_GEN) && !defined(NO_RSA)
    caps |= DK_CAP_KEYGEN_RSA;
#endif
#if defined(WOLFSSL_KEY_GEN) && defined(HAVE_ECC)
    caps |= DK_CAP_KEYGEN_EC;
#endif
#if defined(WOLFSSL_CERT_GEN)
    caps |= DK_CAP_SELF_SIGNED;
#endif
    caps |= DK_CAP_CLIENT_AUTH | DK_CAP_TICKETS | DK_CAP_EMPTY_SERVER_NAME;
#if defined(WOLFSSL_ENCRYPTED_KEYS) && !defined(NO_PWDBASED)
    caps |= DK_CAP_ENCRYPTED_KEYS;
#endif
#if defined(HAVE_CHACHA) && defined(HAVE_POLY1305)
    caps |= DK_CAP_CHACHA20;
#endif
#if defined(WOLFSSL_DTLS_CID)
    caps |= DK_CAP_CID;
#endif
#if defined(WOLFSSL_DTLS13)
    caps |= DK_CAP_DTLS13;
#endif
    /* No DK_CAP_MTU: without WOLFSSL_DTLS_MTU (Debian's build) wolfSSL
     * cannot fragment the handshake to a chosen MTU. */
    return caps;
}

/* Seeds `rng` again from the system in a forked child; on failure it stays
 * freed and every draw fails. Under rng_lock. */
static void fork_check(void)
{
    pid_t pid = getpid();
    if (seeded_pid == pid)
        return;
    wc_FreeRng(&rng);
    if (wc_InitRng(&rng) == 0)
        seeded_pid = pid;
}

dk_err dk_wolf_random(void *out, size_t len)
{
    pthread_mutex_lock(&rng_lock);
    fork_check();
    int rc = wc_RNG_GenerateBlock(&rng, out, (word32)len);
    pthread_mutex_unlock(&rng_lock);
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}

WC_RNG *dk_wolf_rng_acquire(void)
{
    pthread_mutex_lock(&rng_lock);
    fork_check();
    return &rng;
}

void dk_wolf_rng_release(void)
{
    pthread_mutex_unlock(&rng_lock);
}

const char *dk_wolf_suite_name(uint16_t iana)
{
    const char *name = wolfSSL_get_cipher_name_from_suite((byte)(iana >> 8), (byte)iana);
    if (!name || !*name || strcmp(name, "None") == 0)
        return NULL;
    /* The name must lead back to the same suite: set_cipher_list takes
     * names, and a name shared by two suites would enable the wrong one. */
    byte b0 = 0, b1 = 0;
    int flags = 0;
    if (wolfSSL_get_cipher_suite_from_name(name, &b0, &b1, &flags) != 0 ||
        (uint16_t)(b0 << 8 | b1) != iana)
        return NULL;
    return name;
}

/* The suite has a name in this build (cipher_names[] holds only the suites
 * compiled in: no static PSK suite but PSK-CHACHA20-POLY1305 in Debian's
 * 5.5.4, built without WOLFSSL_STATIC_PSK), and a DTLS 1.2 context takes
 * it alone as its cipher list. */
static bool wolf_suite_supported(uint16_t iana)
{
    const char *name = dk_wolf_suite_name(iana);
    if (!name)
        return false;
    pthread_mutex_lock(&probe_lock);
    if (!probe) {
        WOLFSSL_METHOD *m = wolfDTLSv1_2_server_method();
        probe = m ? wolfSSL_CTX_new(m) : NULL; /* takes `m` */
    }
    bool ok = probe && wolfSSL_CTX_set_cipher_list(probe, name) == WOLFSSL_SUCCESS;
    pthread_mutex_unlock(&probe_lock);
    wolfSSL_ERR_clear_error();
    return ok;
}

static dk_err wolf_sha256(const void *data, size_t len, uint8_t out[32])
{
    return wc_Sha256Hash(data, (word32)len, out) == 0 ? DK_OK : DK_ERR_TLS;
}

static dk_err hmac(int type, const void *key, size_t key_len, const dk_bk_iov *parts, size_t nparts,
                   uint8_t *out)
{
    Hmac h;
    if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0)
        return DK_ERR_TLS;
    int rc = wc_HmacSetKey(&h, type, key, (word32)key_len);
    for (size_t i = 0; rc == 0 && i < nparts; i++)
        rc = wc_HmacUpdate(&h, parts[i].data, (word32)parts[i].len);
    if (rc == 0)
        rc = wc_HmacFinal(&h, out);
    wc_HmacFree(&h);
    return rc == 0 ? DK_OK : DK_ERR_TLS;
}

static dk_err wolf_hmac_sha256(const void *key, size_t key_len, const dk_bk_iov *parts,
                               size_t nparts, uint8_t out[32])
{
    return hmac(WC_SHA256, key, key_len, parts, nparts, out);
}

static dk_err wolf_hmac_sha384(const void *key, size_t key_len, const dk_bk_iov *parts,
                               size_t nparts, uint8_t out[48])
{
#ifdef WOLFSSL_SHA384
    return hmac(WC_SHA384, key, key_len, parts, nparts, out);
#else
    return DK_ERR_UNAVAILABLE;
#endif
}

const dk_bk_library_ops dk_wolf_library_ops = {
    .size = sizeof(dk_bk_library_ops),
    .init = wolf_init,
    .version = wolf_version,
    .caps = wolf_caps,
    .random = dk_wolf_random,
    .hmac_sha256 = wolf_hmac_sha256,
    .sha256 = wolf_sha256,
    .hmac_sha384 = wolf_hmac_sha384,
    .suite_supported = wolf_suite_supported,
#ifndef NO_PSK
    .psk_key_max = DK_WOLF_PSK_KEY_MAX,
#else
    .psk_key_max = 0,
#endif
};
