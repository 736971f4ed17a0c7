/* dk_dtls_session: a client session to resume, saved to bytes and back.
 *
 *   "DKS1" | backend name length (1) | name | server name length (2) | name
 *   | library bytes length (4) | library bytes
 *
 * The library bytes hold the master secret: they are wiped when freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_internal.h"
#include "error.h"
#include "library.h"

#define MAGIC       "DKS1"
#define NAME_MAX_   255
#define SESSION_MAX (64 * 1024)

dk_dtls_session *dk__session_new(const char *server_name, const uint8_t *data, size_t len)
{
    dk_dtls_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->backend, sizeof s->backend, "%s", DK__BK->name);
    s->server_name = strdup(server_name ? server_name : "");
    s->data = malloc(len ? len : 1);
    if (!s->server_name || !s->data) {
        dk_dtls_session_free(s);
        return NULL;
    }
    memcpy(s->data, data, len);
    s->len = len;
    return s;
}

dk_dtls_session *dk__session_dup(const dk_dtls_session *s)
{
    dk_dtls_session *d = dk__session_new(s->server_name, s->data, s->len);
    if (d)
        memcpy(d->backend, s->backend, sizeof d->backend);
    return d;
}

void dk_dtls_session_free(dk_dtls_session *s)
{
    if (!s)
        return;
    if (s->data)
        explicit_bzero(s->data, s->len);
    free(s->data);
    free(s->server_name);
    free(s);
}

const char *dk_dtls_session_get_server_name(const dk_dtls_session *s)
{
    return s ? s->server_name : "";
}

dk_err dk_dtls_session_save(const dk_dtls_session *s, uint8_t **out, size_t *out_len)
{
    if (!s || !out || !out_len)
        return DK_FAIL(DK_ERR_INVALID, "session or output is NULL");
    size_t bl = strlen(s->backend), nl = strlen(s->server_name);
    size_t total = 4 + 1 + bl + 2 + nl + 4 + s->len;
    uint8_t *b = malloc(total), *w = b;
    if (!b)
        return DK_FAIL(DK_ERR_NOMEM, "out of memory");
    memcpy(w, MAGIC, 4);
    w += 4;
    *w++ = (uint8_t)bl;
    memcpy(w, s->backend, bl);
    w += bl;
    *w++ = (uint8_t)(nl >> 8);
    *w++ = (uint8_t)nl;
    memcpy(w, s->server_name, nl);
    w += nl;
    for (int i = 3; i >= 0; i--)
        *w++ = (uint8_t)(s->len >> (8 * i));
    memcpy(w, s->data, s->len);
    *out = b;
    *out_len = total;
    return DK_OK;
}

/* Reads `n` bytes at *at of a buffer of `len`; false past its end. */
static bool take(const uint8_t *d, size_t len, size_t *at, size_t n, const uint8_t **p)
{
    if (n > len - *at)
        return false;
    *p = d + *at;
    *at += n;
    return true;
}

dk_dtls_session *dk_dtls_session_load(const void *data, size_t len, dk_err *err)
{
    const uint8_t *d = data, *p;
    size_t at = 0;
    if (dk_init() != DK_OK || !d) {
        dk__set_err(err, DK_FAIL(DK_ERR_INVALID, "data is NULL"));
        return NULL;
    }
    if (!take(d, len, &at, 4, &p) || memcmp(p, MAGIC, 4) != 0) {
        dk__set_err(err, DK_FAIL(DK_ERR_PARSE, "not a saved dtlskit session"));
        return NULL;
    }
    const uint8_t *bn, *sn, *lib;
    size_t bl, nl, ll;
    bool ok = take(d, len, &at, 1, &p) && (bl = p[0], take(d, len, &at, bl, &bn)) &&
              take(d, len, &at, 2, &p) && (nl = (size_t)p[0] << 8 | p[1], true) &&
              take(d, len, &at, nl, &sn) && take(d, len, &at, 4, &p) &&
              (ll = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3], true) &&
              ll <= SESSION_MAX && take(d, len, &at, ll, &lib) && at == len && bl < 16 &&
              nl <= NAME_MAX_ && !memchr(sn, 0, nl) && ll > 0;
    if (!ok) {
        dk__set_err(err, DK_FAIL(DK_ERR_PARSE, "saved session is truncated or malformed"));
        return NULL;
    }
    if (bl != strlen(DK__BK->name) || memcmp(bn, DK__BK->name, bl) != 0) {
        dk__set_err(err, DK_FAIL(DK_ERR_UNAVAILABLE,
                                 "session saved by the %.*s backend; this library uses %s (a "
                                 "ticket is only readable by the library that issued it)",
                                 (int)bl, (const char *)bn, DK__BK->name));
        return NULL;
    }
    char name[NAME_MAX_ + 1];
    memcpy(name, sn, nl);
    name[nl] = '\0';
    dk_dtls_session *s = dk__session_new(name, lib, ll);
    dk__set_err(err, s ? DK_OK : DK_FAIL(DK_ERR_NOMEM, "out of memory"));
    return s;
}
