/* dk_cert: certificate chains. PEM armour is handled here; the backend
 * parses and encodes single DER certificates. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto_internal.h"
#include "error.h"
#include "file.h"
#include "library.h"
#include "pem.h"
#include "x509_name.h"

dk_cert *dk__cert_ref(const dk_cert *cert)
{
    dk_cert *c = (dk_cert *)cert;
    atomic_fetch_add(&c->refs, 1);
    return c;
}

dk_cert *dk__cert_new(void)
{
    dk_cert *c = calloc(1, sizeof *c);
    if (c)
        atomic_init(&c->refs, 1);
    return c;
}

dk_err dk__cert_push(dk_cert *chain, dk_bk_cert *bk)
{
    if (chain->n == chain->cap) {
        size_t ncap = chain->cap ? chain->cap * 2 : 4;
        dk_bk_cert **nc = realloc(chain->certs, ncap * sizeof *nc);
        if (!nc) {
            DK__BK->cert->free(bk);
            return DK_ERR_NOMEM;
        }
        chain->certs = nc;
        chain->cap = ncap;
    }
    chain->certs[chain->n++] = bk;
    return DK_OK;
}

void dk_cert_free(dk_cert *cert)
{
    if (!cert || atomic_fetch_sub(&cert->refs, 1) != 1)
        return;
    for (size_t i = 0; i < cert->n; i++)
        DK__BK->cert->free(cert->certs[i]);
    free(cert->certs);
    free(cert);
}

typedef struct parse_ctx {
    dk_cert *chain;
    char reason[DK__REASON_CAP];
} parse_ctx;

dk_err dk__cert_push_der(dk_cert *chain, const uint8_t *der, size_t len, char *reason,
                         size_t reason_cap)
{
    dk_bk_cert *bk = NULL;
    dk_err e = DK__BK->cert->from_der(der, len, &bk, reason, reason_cap);
    if (e != DK_OK)
        return e;
    return dk__cert_push(chain, bk);
}

static dk_err push_der(void *user, const uint8_t *der, size_t len)
{
    parse_ctx *pc = user;
    return dk__cert_push_der(pc->chain, der, len, pc->reason, sizeof pc->reason);
}

static dk_cert *load_mem(const char *func, const void *data, size_t len, dk_err *err)
{
    dk_err e = dk_init();
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    if (!data || !len) {
        dk__set_err(err, dk__fail(DK_ERR_INVALID, func, "no certificate data"));
        return NULL;
    }
    if (!DK__BK_HAS(cert, from_der)) {
        dk__set_err(err, dk__fail(DK_ERR_UNAVAILABLE, func,
                                  "backend '%s' cannot parse certificates", DK__BK->name));
        return NULL;
    }
    parse_ctx pc = {.chain = dk__cert_new(), .reason = ""};
    if (!pc.chain) {
        dk__set_err(err, dk__fail(DK_ERR_NOMEM, func, "out of memory"));
        return NULL;
    }
    if (dk__pem_detect(data, len)) {
        int n = dk__pem_each(data, len, "CERTIFICATE", push_der, &pc);
        if (n == 0) {
            e = dk__fail(DK_ERR_PARSE, func, "PEM data holds no CERTIFICATE block");
        } else if (n < 0) {
            e = dk__fail((dk_err)n, func, "bad PEM certificate%s%s", pc.reason[0] ? ": " : "",
                         pc.reason);
        }
    } else {
        e = push_der(&pc, data, len);
        if (e != DK_OK)
            e = dk__fail(e, func, "not a PEM or DER certificate%s%s", pc.reason[0] ? ": " : "",
                         pc.reason);
    }
    if (e != DK_OK) {
        dk_cert_free(pc.chain);
        dk__set_err(err, e);
        return NULL;
    }
    dk__set_err(err, DK_OK);
    return pc.chain;
}

dk_cert *dk_cert_load_from_memory(const void *data, size_t len, dk_err *err)
{
    return load_mem(__func__, data, len, err);
}

dk_cert *dk_cert_load_from_string(const char *pem, dk_err *err)
{
    return load_mem(__func__, pem, pem ? strlen(pem) : 0, err);
}

dk_cert *dk_cert_load(const char *path, dk_err *err)
{
    uint8_t *buf;
    size_t len;
    dk_err e = dk__file_read(__func__, path, &buf, &len);
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    dk_cert *c = load_mem(__func__, buf, len, err);
    free(buf);
    return c;
}

static dk_err check_index(const char *func, const dk_cert *cert, int index)
{
    if (!cert)
        return dk__fail(DK_ERR_INVALID, func, "certificate is NULL");
    if (index < 0 || (size_t)index >= cert->n)
        return dk__fail(DK_ERR_INVALID, func, "index %d outside a chain of %zu", index, cert->n);
    return DK_OK;
}

dk_err dk_cert_save_to_memory(const dk_cert *cert, dk_format format, void **out, size_t *out_len)
{
    if (!cert || !out || !out_len)
        return DK_FAIL(DK_ERR_INVALID, "certificate, out or out_len is NULL");
    if (cert->n == 0)
        return DK_FAIL(DK_ERR_INVALID, "empty chain");
    if (format == DK_FORMAT_DER) {
        if (cert->n != 1)
            return DK_FAIL(DK_ERR_INVALID,
                           "DER holds one certificate and this chain has %zu: use PEM or "
                           "dk_cert_get()",
                           cert->n);
        const uint8_t *der;
        size_t len;
        if (DK__BK->cert->to_der(cert->certs[0], &der, &len) != DK_OK)
            return DK_FAIL(DK_ERR_TLS, "backend could not encode the certificate");
        void *copy = malloc(len);
        if (!copy)
            return DK_FAIL(DK_ERR_NOMEM, "out of memory");
        memcpy(copy, der, len);
        *out = copy;
        *out_len = len;
        return DK_OK;
    }
    if (format != DK_FORMAT_PEM)
        return DK_FAIL(DK_ERR_INVALID, "unknown format %d", (int)format);
    char *buf = NULL;
    size_t len = 0;
    for (size_t i = 0; i < cert->n; i++) {
        const uint8_t *der;
        size_t dlen;
        if (DK__BK->cert->to_der(cert->certs[i], &der, &dlen) != DK_OK) {
            free(buf);
            return DK_FAIL(DK_ERR_TLS, "backend could not encode certificate %zu", i);
        }
        if (dk__pem_append(&buf, &len, "CERTIFICATE", der, dlen) != DK_OK) {
            free(buf);
            return DK_FAIL(DK_ERR_NOMEM, "out of memory");
        }
    }
    *out = buf;
    *out_len = len;
    return DK_OK;
}

char *dk_cert_save_to_string(const dk_cert *cert, dk_err *err)
{
    void *buf;
    size_t len;
    dk_err e = dk_cert_save_to_memory(cert, DK_FORMAT_PEM, &buf, &len);
    dk__set_err(err, e);
    return e == DK_OK ? buf : NULL; /* pem_append keeps a NUL after the text */
}

dk_err dk_cert_save(const dk_cert *cert, const char *path, dk_format format)
{
    if (!path)
        return DK_FAIL(DK_ERR_INVALID, "path is NULL");
    void *buf = NULL;
    size_t len = 0;
    dk_err e = dk_cert_save_to_memory(cert, format, &buf, &len);
    if (e != DK_OK)
        return e;
    e = dk__file_write(__func__, path, buf, len, 0644);
    free(buf);
    return e;
}

int dk_cert_count(const dk_cert *cert)
{
    return cert ? (int)cert->n : 0;
}

dk_cert *dk_cert_get(const dk_cert *cert, int index, dk_err *err)
{
    dk_err e = check_index(__func__, cert, index);
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    const uint8_t *der;
    size_t len;
    if (DK__BK->cert->to_der(cert->certs[index], &der, &len) != DK_OK) {
        dk__set_err(err, DK_FAIL(DK_ERR_TLS, "backend could not encode the certificate"));
        return NULL;
    }
    return load_mem(__func__, der, len, err);
}

dk_err dk_cert_append(dk_cert *chain, const dk_cert *more)
{
    if (!chain || !more)
        return DK_FAIL(DK_ERR_INVALID, "chain or more is NULL");
    if (atomic_load(&chain->refs) > 1)
        return DK_FAIL(DK_ERR_STATE, "chain is referenced by TLS options; build it first");
    size_t n = more->n; /* `more` may be `chain` itself */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *der;
        size_t len;
        if (DK__BK->cert->to_der(more->certs[i], &der, &len) != DK_OK)
            return DK_FAIL(DK_ERR_TLS, "backend could not encode certificate %zu", i);
        char reason[DK__REASON_CAP] = "";
        dk_bk_cert *bk = NULL;
        dk_err e = DK__BK->cert->from_der(der, len, &bk, reason, sizeof reason);
        if (e != DK_OK)
            return DK_FAIL(e, "%s", reason);
        if (dk__cert_push(chain, bk) != DK_OK)
            return DK_FAIL(DK_ERR_NOMEM, "out of memory");
    }
    return DK_OK;
}

/* The fields of certificate `index`, read from its DER. */
static dk_err fields(const char *func, const dk_cert *cert, int index, dk__x509_fields *f)
{
    dk_err e = check_index(func, cert, index);
    if (e != DK_OK)
        return e;
    const uint8_t *der;
    size_t len;
    if (DK__BK->cert->to_der(cert->certs[index], &der, &len) != DK_OK)
        return dk__fail(DK_ERR_TLS, func, "backend could not encode the certificate");
    if (!dk__x509_read(der, len, f))
        return dk__fail(DK_ERR_PARSE, func, "certificate %d is not well-formed DER", index);
    return DK_OK;
}

static dk_err name_text(const char *func, const dk_cert *cert, int index, bool issuer, char *buf,
                        size_t cap)
{
    dk__x509_fields f;
    if (!buf)
        return dk__fail(DK_ERR_INVALID, func, "buf is NULL");
    if (cap)
        buf[0] = '\0';
    dk_err e = fields(func, cert, index, &f);
    if (e != DK_OK)
        return e;
    const dk__der *name = issuer ? &f.issuer : &f.subject;
    e = dk__x509_name_text(name->p, name->n, buf, cap);
    if (e == DK_ERR_BUFFER_TOO_SMALL)
        return dk__fail(e, func, "the %s does not fit in %zu bytes", issuer ? "issuer" : "subject",
                        cap);
    if (e != DK_OK)
        return dk__fail(e, func, "the %s is not a well-formed Name", issuer ? "issuer" : "subject");
    return DK_OK;
}

dk_err dk_cert_get_subject(const dk_cert *cert, int index, char *buf, size_t cap)
{
    return name_text(__func__, cert, index, false, buf, cap);
}

dk_err dk_cert_get_issuer(const dk_cert *cert, int index, char *buf, size_t cap)
{
    return name_text(__func__, cert, index, true, buf, cap);
}

dk_err dk_cert_get_fingerprint_sha256(const dk_cert *cert, int index, uint8_t out[32])
{
    dk_err e = check_index(__func__, cert, index);
    if (e != DK_OK)
        return e;
    if (!out)
        return DK_FAIL(DK_ERR_INVALID, "out is NULL");
    const uint8_t *der;
    size_t len;
    if (DK__BK->cert->to_der(cert->certs[index], &der, &len) != DK_OK ||
        DK__BK->library->sha256(der, len, out) != DK_OK)
        return DK_FAIL(DK_ERR_TLS, "cannot hash the certificate");
    return DK_OK;
}

dk_err dk_cert_get_validity(const dk_cert *cert, int index, int64_t *not_before, int64_t *not_after)
{
    if (!not_before || !not_after)
        return DK_FAIL(DK_ERR_INVALID, "not_before or not_after is NULL");
    dk__x509_fields f;
    dk_err e = fields(__func__, cert, index, &f);
    if (e != DK_OK)
        return e;
    if (!dk__x509_time(f.not_before_tag, f.not_before.p, f.not_before.n, not_before) ||
        !dk__x509_time(f.not_after_tag, f.not_after.p, f.not_after.n, not_after))
        return DK_FAIL(DK_ERR_PARSE, "cannot read the validity period");
    return DK_OK;
}

/* "YYYYMMDDhhmmss" (UTC) to seconds since the epoch; -1 when malformed. */
static int64_t parse_time(const char *s)
{
    if (strlen(s) != 14)
        return -1;
    for (int i = 0; i < 14; i++)
        if (!isdigit((unsigned char)s[i]))
            return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h, mi, se;
    if (sscanf(s, "%4d%2d%2d%2d%2d%2d", &y, &mo, &d, &h, &mi, &se) != 6)
        return -1;
    if (y < 1950 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        se > 59)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    struct tm back;
    if (!gmtime_r(&t, &back) || back.tm_mday != d) /* rejects 31 February */
        return -1;
    return (int64_t)t;
}

/* Host names (and "*.x" wildcards) get a subjectAltName. */
static bool is_hostname(const char *s)
{
    if (!*s || strlen(s) > 253)
        return false;
    if (s[0] == '*' && s[1] == '.')
        s += 2;
    bool has_alpha = false;
    for (const char *p = s; *p; p++) {
        if (isalpha((unsigned char)*p))
            has_alpha = true;
        else if (!isdigit((unsigned char)*p) && *p != '-' && *p != '.')
            return false;
    }
    return has_alpha && s[0] != '.' && s[0] != '-';
}

dk_cert *dk_cert_generate_self_signed(const dk_key *key, const char *issuer_name,
                                      const char *not_before, const char *not_after, dk_err *err)
{
    dk_err e = dk_init();
    if (e != DK_OK) {
        dk__set_err(err, e);
        return NULL;
    }
    if (!key) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "key is NULL"));
        return NULL;
    }
    if (!DK__BK_HAS(cert, self_signed)) {
        dk__set_err(err, DK_FAIL(DK_ERR_UNAVAILABLE, "backend '%s' cannot create certificates",
                                 DK__BK->name));
        return NULL;
    }
    if (dk_key_is_public_only(key)) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "a public-only key cannot sign"));
        return NULL;
    }
    const char *subject = issuer_name ? issuer_name : "CN=myserver,O=myorganisation,C=IT";
    char cn[256], why[200] = "";
    uint8_t name[DK__NAME_DER_MAX];
    size_t name_len = 0;
    if (dk__x509_name_parse(subject, name, sizeof name, &name_len, cn, sizeof cn, why,
                            sizeof why) != DK_OK) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "issuer name '%s': %s", subject, why));
        return NULL;
    }
    int64_t now = (int64_t)time(NULL);
    int64_t nb = not_before ? parse_time(not_before) : now - 60;
    int64_t na = not_after ? parse_time(not_after) : now + 10LL * 365 * 24 * 3600;
    if (nb < 0 || na < 0 || na <= nb) {
        dk__set_err(err,
                    DK_FAIL(DK_ERR_INVALID,
                            "validity '%s' to '%s': dates are YYYYMMDDhhmmss (UTC), "
                            "not_after later than not_before",
                            not_before ? not_before : "now", not_after ? not_after : "+10 years"));
        return NULL;
    }
    uint8_t serial[16];
    if (DK__BK->library->random(serial, sizeof serial) != DK_OK) {
        dk__set_err(err, DK_FAIL(DK_ERR_TLS, "no random bytes for the serial number"));
        return NULL;
    }
    serial[0] &= 0x7f;
    serial[0] |= 0x01; /* positive and of full length */
    char reason[DK__REASON_CAP] = "";
    dk_bk_cert *bk = NULL;
    e = DK__BK->cert->self_signed(key->bk, name, name_len, is_hostname(cn) ? cn : NULL, nb, na,
                                  serial, &bk, reason, sizeof reason);
    if (e != DK_OK) {
        dk__set_err(err, DK_FAIL(e, "%s", reason[0] ? reason : dk_strerror(e)));
        return NULL;
    }
    dk_cert *c = dk__cert_new();
    if (!c || dk__cert_push(c, bk) != DK_OK) {
        if (c)
            dk_cert_free(c);
        else
            DK__BK->cert->free(bk);
        dk__set_err(err, DK_FAIL(DK_ERR_NOMEM, "out of memory"));
        return NULL;
    }
    dk__set_err(err, DK_OK);
    return c;
}
