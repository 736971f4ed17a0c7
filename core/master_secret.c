/* dk_dtls_server's master secret: one secret from which the cookie secret
 * and the ticket keys of every rotation period are derived (cookie.h,
 * tickets.h), set from memory or read from an operator's file. */
#include <string.h>

#include "dtls_internal.h"
#include "error.h"
#include "file.h"

dk_err dk_dtls_server_set_master_secret(dk_dtls_server *s, const void *secret, size_t len)
{
    if (!s || !secret)
        return DK_FAIL(DK_ERR_INVALID, "server or secret is NULL");
    if (len < 16 || len > DK__SECRET_MAX || len > DK__TICKET_SECRET_MAX)
        return DK_FAIL(DK_ERR_INVALID, "secret of %zu bytes: 16 to %d needed", len, DK__SECRET_MAX);
    if (dk__cookie_jar_set_master(&s->jar, secret, len) != DK_OK)
        return DK_FAIL(DK_ERR_TLS, "cannot derive the cookie secrets (the library's HMAC failed)");
    memcpy(s->tickets.secret, secret, len);
    s->tickets.secret_len = len;
    /* Ticket keys live in the backend context: the next session gets a
     * context rebuilt with them; sessions under way keep theirs. */
    dk__ctx_unref(s->ctx);
    s->ctx = NULL;
    return DK_OK;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The file's secret: hex digits (a final newline allowed) when the whole
 * file is hex, the bytes themselves otherwise. 0 when neither length fits. */
static size_t decode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t digits = n;
    if (digits && in[digits - 1] == '\n')
        digits--;
    if (digits && in[digits - 1] == '\r')
        digits--;
    bool hex = digits > 0;
    for (size_t i = 0; i < digits && hex; i++)
        hex = hex_value(in[i]) >= 0;
    if (hex) {
        if (digits % 2 || digits < 32 || digits > 2 * DK__SECRET_MAX)
            return 0;
        for (size_t i = 0; i < digits / 2; i++)
            out[i] = (uint8_t)(hex_value(in[2 * i]) << 4 | hex_value(in[2 * i + 1]));
        return digits / 2;
    }
    if (n < 16 || n > DK__SECRET_MAX)
        return 0;
    memcpy(out, in, n);
    return n;
}

dk_err dk_dtls_server_load_master_secret(dk_dtls_server *s, const char *path)
{
    if (!s || !path)
        return DK_FAIL(DK_ERR_INVALID, "server or path is NULL");
    /* Room for 128 hex digits and a CRLF. */
    uint8_t raw[2 * DK__SECRET_MAX + 2], key[DK__SECRET_MAX];
    size_t n = 0;
    dk_err e = dk__file_read_private(__func__, path, raw, sizeof raw, &n);
    if (e != DK_OK)
        return e;
    size_t len = decode(raw, n, key);
    explicit_bzero(raw, sizeof raw);
    if (!len)
        e = DK_FAIL(DK_ERR_PARSE,
                    "'%s' holds %zu bytes: a master secret file holds 32 to %d hex digits "
                    "or 16 to %d raw bytes",
                    path, n, 2 * DK__SECRET_MAX, DK__SECRET_MAX);
    else
        e = dk_dtls_server_set_master_secret(s, key, len);
    explicit_bzero(key, sizeof key);
    return e;
}
