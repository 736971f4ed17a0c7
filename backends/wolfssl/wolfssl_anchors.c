/* wolfSSL backend: the names of a context's trust anchors.
 *
 * wolfSSL 5.5.4 adds every intermediate CA it verified in a peer's chain to
 * the context's certificate store, for good. A context serves many
 * sessions (a server's, or every client connection made with the same
 * options), so without a check a server that omits its intermediate would
 * be accepted or refused depending on earlier connections. The verify
 * callback therefore accepts a certificate only when its issuer is one of
 * the anchors the context was given or a certificate the peer presented in
 * this very handshake. */
#include "wolfssl_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/ssl.h>

static void add_name(dk_bk_ctx *c, const char *name)
{
    if (c->nanchors == c->anchors_cap) {
        size_t cap = c->anchors_cap ? c->anchors_cap * 2 : 8;
        char **v = realloc(c->anchors, cap * sizeof *v);
        if (!v)
            return;
        c->anchors = v;
        c->anchors_cap = cap;
    }
    char *copy = strdup(name);
    if (copy)
        c->anchors[c->nanchors++] = copy;
}

static void add_x509(dk_bk_ctx *c, WOLFSSL_X509 *x)
{
    char name[DK_WOLF_NAME_MAX];
    if (x && wolfSSL_X509_NAME_oneline(wolfSSL_X509_get_subject_name(x), name, sizeof name))
        add_name(c, name);
}

void dk_wolf_anchors_add_der(dk_bk_ctx *c, const uint8_t *der, size_t len)
{
    WOLFSSL_X509 *x = wolfSSL_X509_d2i(NULL, der, (int)len);
    add_x509(c, x);
    wolfSSL_X509_free(x);
}

void dk_wolf_anchors_add_file(dk_bk_ctx *c, const char *pem_path)
{
    FILE *f = fopen(pem_path, "r");
    if (!f)
        return;
    WOLFSSL_X509 *x;
    while ((x = wolfSSL_PEM_read_X509(f, NULL, NULL, NULL))) {
        add_x509(c, x);
        wolfSSL_X509_free(x);
    }
    fclose(f);
    wolfSSL_ERR_clear_error();
}

bool dk_wolf_anchors_has(const dk_bk_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nanchors; i++)
        if (strcmp(c->anchors[i], name) == 0)
            return true;
    return false;
}

void dk_wolf_anchors_free(dk_bk_ctx *c)
{
    for (size_t i = 0; i < c->nanchors; i++)
        free(c->anchors[i]);
    free(c->anchors);
    c->anchors = NULL;
    c->nanchors = c->anchors_cap = 0;
}
