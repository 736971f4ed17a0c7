/* dk_key: private and public keys, through the backend. */
#include <stdlib.h>
#include <string.h>

#include "crypto_internal.h"
#include "error.h"
#include "file.h"
#include "library.h"

void dk_free(void *ptr)
{
    free(ptr);
}

dk_key *dk__key_ref(const dk_key *key)
{
    dk_key *k = (dk_key *)key;
    atomic_fetch_add(&k->refs, 1);
    return k;
}

void dk_key_free(dk_key *key)
{
    if (!key || atomic_fetch_sub(&key->refs, 1) != 1)
        return;
    DK__BK->key->free(key->bk);
    free(key);
}

static dk_key *wrap(dk_bk_key *bk, const char *func, dk_err *err)
{
    dk_key *k = malloc(sizeof *k);
    if (!k) {
        DK__BK->key->free(bk);
        dk__set_err(err, dk__fail(DK_ERR_NOMEM, func, "out of memory"));
        return NULL;
    }
    atomic_init(&k->refs, 1);
    k->bk = bk;
    dk__set_err(err, DK_OK);
    return k;
}

static dk_key *load_mem(const char *func, const void *data, size_t len, const char *password,
                        bool public_only, dk_err *err)
{
    dk_err e = dk_init();
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    if (!data || !len) {
        dk__set_err(err, dk__fail(DK_ERR_INVALID, func, "no key data"));
        return NULL;
    }
    if (!DK__BK_HAS(key, parse)) {
        dk__set_err(err, dk__fail(DK_ERR_UNAVAILABLE, func, "backend '%s' cannot parse keys",
                                  DK__BK->name));
        return NULL;
    }
    char reason[DK__REASON_CAP] = "";
    dk_bk_key *bk = NULL;
    e = DK__BK->key->parse(data, len, password, public_only, &bk, reason, sizeof reason);
    if (e != DK_OK) {
        dk__set_err(err, dk__fail(e, func, "%s", reason[0] ? reason : dk_strerror(e)));
        return NULL;
    }
    return wrap(bk, func, err);
}

dk_key *dk_key_load_from_memory(const void *data, size_t len, const char *password,
                                bool public_only, dk_err *err)
{
    return load_mem(__func__, data, len, password, public_only, err);
}

dk_key *dk_key_load_from_string(const char *pem, const char *password, bool public_only,
                                dk_err *err)
{
    return load_mem(__func__, pem, pem ? strlen(pem) : 0, password, public_only, err);
}

dk_key *dk_key_load(const char *path, const char *password, bool public_only, dk_err *err)
{
    uint8_t *buf;
    size_t len;
    dk_err e = dk__file_read(__func__, path, &buf, &len);
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    dk_key *k = load_mem(__func__, buf, len, password, public_only, err);
    /* The buffer may hold an unencrypted private key. */
    memset(buf, 0, len);
    free(buf);
    return k;
}

dk_err dk_key_save_to_memory(const dk_key *key, dk_format format, bool public_only, void **out,
                             size_t *out_len)
{
    if (!key || !out || !out_len)
        return DK_FAIL(DK_ERR_INVALID, "key, out or out_len is NULL");
    if (format != DK_FORMAT_PEM && format != DK_FORMAT_DER)
        return DK_FAIL(DK_ERR_INVALID, "unknown format %d", (int)format);
    if (!DK__BK_HAS(key, write))
        return DK_FAIL(DK_ERR_UNAVAILABLE, "backend cannot write keys");
    uint8_t *buf = NULL;
    size_t len = 0;
    dk_err e = DK__BK->key->write(key->bk, format, public_only, &buf, &len);
    if (e != DK_OK)
        return DK_FAIL(e, "backend could not encode the key");
    *out = buf;
    *out_len = len;
    return DK_OK;
}

char *dk_key_save_to_string(const dk_key *key, bool public_only, dk_err *err)
{
    void *buf = NULL;
    size_t len = 0;
    dk_err e = dk_key_save_to_memory(key, DK_FORMAT_PEM, public_only, &buf, &len);
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    char *s = realloc(buf, len + 1);
    if (!s) {
        free(buf);
        dk__set_err(err, DK_FAIL(DK_ERR_NOMEM, "out of memory"));
        return NULL;
    }
    s[len] = '\0';
    dk__set_err(err, DK_OK);
    return s;
}

dk_err dk_key_save(const dk_key *key, const char *path, dk_format format, bool public_only)
{
    if (!path)
        return DK_FAIL(DK_ERR_INVALID, "path is NULL");
    void *buf = NULL;
    size_t len = 0;
    dk_err e = dk_key_save_to_memory(key, format, public_only, &buf, &len);
    if (e != DK_OK)
        return e;
    bool secret = !public_only && !dk_key_is_public_only(key);
    e = dk__file_write(__func__, path, buf, len, secret ? 0600 : 0644);
    if (buf) /* it may hold a private key */
        memset(buf, 0, len);
    free(buf);
    return e;
}

bool dk_key_is_public_only(const dk_key *key)
{
    return key && DK__BK->key->is_public_only(key->bk);
}

dk_key_type dk_key_get_type(const dk_key *key)
{
    return key ? DK__BK->key->type(key->bk) : (dk_key_type)0;
}

int dk_key_get_bits(const dk_key *key)
{
    return key ? DK__BK->key->bits(key->bk) : 0;
}

dk_key *dk_key_generate_rsa(int bits, dk_err *err)
{
    dk_err e = dk_init();
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    if (bits < 1024 || bits > 8192 || bits % 8) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID,
                                 "%d bits: RSA keys have 1024 to 8192 bits, "
                                 "a multiple of 8",
                                 bits));
        return NULL;
    }
    if (!DK__BK_HAS(key, generate_rsa)) {
        dk__set_err(err, DK_FAIL(DK_ERR_UNAVAILABLE, "backend '%s' cannot generate RSA keys",
                                 DK__BK->name));
        return NULL;
    }
    char reason[DK__REASON_CAP] = "";
    dk_bk_key *bk = NULL;
    e = DK__BK->key->generate_rsa(bits, &bk, reason, sizeof reason);
    if (e != DK_OK) {
        dk__set_err(err, DK_FAIL(e, "%s", reason[0] ? reason : dk_strerror(e)));
        return NULL;
    }
    return wrap(bk, __func__, err);
}

dk_key *dk_key_generate_ec(dk_ec_curve curve, dk_err *err)
{
    dk_err e = dk_init();
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    if (curve != DK_EC_P256 && curve != DK_EC_P384) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "unknown curve %d", (int)curve));
        return NULL;
    }
    if (!DK__BK_HAS(key, generate_ec)) {
        dk__set_err(
            err, DK_FAIL(DK_ERR_UNAVAILABLE, "backend '%s' cannot generate EC keys", DK__BK->name));
        return NULL;
    }
    char reason[DK__REASON_CAP] = "";
    dk_bk_key *bk = NULL;
    e = DK__BK->key->generate_ec(curve, &bk, reason, sizeof reason);
    if (e != DK_OK) {
        dk__set_err(err, DK_FAIL(e, "%s", reason[0] ? reason : dk_strerror(e)));
        return NULL;
    }
    return wrap(bk, __func__, err);
}
