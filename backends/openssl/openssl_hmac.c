/* OpenSSL backend: HMAC-SHA256 for cookies. The MAC algorithm is fetched
 * once and each thread keeps one MAC context, so checking a cookie
 * allocates nothing. */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <string.h>

#include "openssl_backend.h"

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static pthread_key_t hmac_key;

static void ctx_destroy(void *p)
{
    EVP_MAC_CTX_free(p);
}

static void hmac_setup(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    (void)pthread_key_create(&hmac_key, ctx_destroy);
}

dk_err dk_ossl_hmac_sha256(const void *key, size_t key_len, const dk_bk_iov *parts, size_t nparts,
                           uint8_t out[32])
{
    pthread_once(&hmac_once, hmac_setup);
    if (!hmac_alg)
        return DK_ERR_TLS;
    EVP_MAC_CTX *ctx = pthread_getspecific(hmac_key);
    if (!ctx) {
        ctx = EVP_MAC_CTX_new(hmac_alg);
        if (!ctx)
            return DK_ERR_NOMEM;
        OSSL_PARAM params[2];
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
        params[1] = OSSL_PARAM_construct_end();
        if (!EVP_MAC_CTX_set_params(ctx, params) || pthread_setspecific(hmac_key, ctx) != 0) {
            EVP_MAC_CTX_free(ctx);
            return DK_ERR_TLS;
        }
    }
    if (!EVP_MAC_init(ctx, key, key_len, NULL))
        return DK_ERR_TLS;
    for (size_t i = 0; i < nparts; i++)
        if (parts[i].len && !EVP_MAC_update(ctx, parts[i].data, parts[i].len))
            return DK_ERR_TLS;
    size_t n = 0;
    if (!EVP_MAC_final(ctx, out, &n, 32) || n != 32)
        return DK_ERR_TLS;
    return DK_OK;
}
